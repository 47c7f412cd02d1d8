package memory

import "github.com/voxrun/voxrun/store"

// Keys are package store's layout helpers (the same as store/redis uses).

func ttsKey(key string) string             { return store.TTSKey(key) }
func kvKey(accountSID, key string) string  { return store.KVKey(accountSID, key) }
func lockKey(name string) string           { return store.LockKey(name) }
func callPrefix(accountSID string) string  { return "call:" + accountSID + ":" }
func queuePrefix(accountSID string) string { return "queue:" + accountSID + ":" }
func confPrefix(accountSID string) string  { return "conf:" + accountSID + ":" }
