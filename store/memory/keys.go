package memory

// Keys beyond the helpers in package store, named as store/redis names them
// (and storetest checks): tts:{key}, kv:{accountSid}:{key}, lock:{name}.

func ttsKey(key string) string             { return "tts:" + key }
func kvKey(accountSID, key string) string  { return "kv:" + accountSID + ":" + key }
func lockKey(name string) string           { return "lock:" + name }
func callPrefix(accountSID string) string  { return "call:" + accountSID + ":" }
func queuePrefix(accountSID string) string { return "queue:" + accountSID + ":" }
func confPrefix(accountSID string) string  { return "conf:" + accountSID + ":" }
