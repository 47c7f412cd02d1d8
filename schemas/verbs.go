package schemas

import "sort"

// Alias is a verb name that jambonz accepts in place of a canonical one.
type Alias struct {
	// Verb is the canonical verb the alias stands for.
	Verb string
	// Vendor, when not empty, is set as the verb's vendor attribute unless the
	// document sets one itself (openai_s2s → llm with vendor "openai").
	Vendor string
}

// verbFiles maps each canonical verb to its schema file under json/verbs.
// It is the verb list of @jambonz/schema's validate(), minus the aliases.
func verbFiles() map[string]string {
	return map[string]string{
		"agent":       "agent.json",
		"alert":       "alert.json",
		"answer":      "answer.json",
		"conference":  "conference.json",
		"config":      "config.json",
		"dequeue":     "dequeue.json",
		"dial":        "dial.json",
		"dialogflow":  "dialogflow.json",
		"dtmf":        "dtmf.json",
		"dub":         "dub.json",
		"enqueue":     "enqueue.json",
		"gather":      "gather.json",
		"hangup":      "hangup.json",
		"leave":       "leave.json",
		"listen":      "listen.json",
		"llm":         "llm.json",
		"message":     "message.json",
		"pause":       "pause.json",
		"play":        "play.json",
		"redirect":    "redirect.json",
		"rest:dial":   "rest-dial.json",
		"say":         "say.json",
		"sip:decline": "sip-decline.json",
		"sip:refer":   "sip-refer.json",
		"sip:request": "sip-request.json",
		"tag":         "tag.json",
		"transcribe":  "transcribe.json",
		"transfer":    "transfer.json",
	}
}

// verbAliases lists jambonz's verb synonyms: its normaliser's transforms, and
// room, which jambonz's schema accepts as conference.
func verbAliases() map[string]Alias {
	return map[string]Alias{
		"stream":         {Verb: "listen"},
		"room":           {Verb: "conference"},
		"s2s":            {Verb: "llm"},
		"openai_s2s":     {Verb: "llm", Vendor: "openai"},
		"microsoft_s2s":  {Verb: "llm", Vendor: "microsoft"},
		"google_s2s":     {Verb: "llm", Vendor: "google"},
		"elevenlabs_s2s": {Verb: "llm", Vendor: "elevenlabs"},
		"deepgram_s2s":   {Verb: "llm", Vendor: "deepgram"},
		"voiceagent_s2s": {Verb: "llm", Vendor: "voiceagent"},
		"ultravox_s2s":   {Verb: "llm", Vendor: "ultravox"},
		"qwen_s2s":       {Verb: "llm", Vendor: "qwen"},
		"gptlive_s2s":    {Verb: "llm", Vendor: "gptlive"},
	}
}

// Verbs returns the canonical verb names that have a schema, sorted.
func (v *Validator) Verbs() []string {
	names := make([]string, 0, len(v.open))
	for n := range v.open {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Aliases returns a copy of the verb aliases the validator resolves.
func (v *Validator) Aliases() map[string]Alias {
	out := make(map[string]Alias, len(v.aliases))
	for k, a := range v.aliases {
		out[k] = a
	}
	return out
}

// Resolve returns the canonical verb for a name as written in a document, and
// whether the name is known at all.
func (v *Validator) Resolve(name string) (Alias, bool) {
	if _, ok := v.open[name]; ok {
		return Alias{Verb: name}, true
	}
	a, ok := v.aliases[name]
	return a, ok
}
