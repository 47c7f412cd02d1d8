package sandbox

import "time"

// invokeMsg is a frameInvoke payload.
type invokeMsg struct {
	app      string
	source   string // empty when the parent believes the worker has the program
	handlers []string
	request  []byte
	env      []byte
	state    []byte
	limits   Limits
	// check asks only to compile the source (Pool.Check).
	check bool
}

func (m *invokeMsg) encode(e *encoder) {
	e.string(m.app)
	e.string(m.source)
	e.strings(m.handlers)
	e.bytes(m.request)
	e.bytes(m.env)
	e.bytes(m.state)
	l := &m.limits
	e.uint(uint64(l.ScriptTimeout))
	e.uint(uint64(l.WallTimeout))
	e.uint(uint64(l.MaxStackDepth))
	e.uint(uint64(l.MaxStringBytes))
	e.uint(uint64(l.MaxArrayLength))
	e.uint(uint64(l.MaxJSONBytes))
	e.uint(uint64(l.MaxStateBytes))
	e.uint(uint64(l.MaxLogLines))
	e.uint(uint64(l.MaxLogLineBytes))
	e.uint(uint64(l.MaxFetches))
	e.uint(uint64(l.MaxKVOps))
	e.bool(m.check)
}

func (m *invokeMsg) decode(d *decoder) {
	m.app = d.string()
	m.source = d.string()
	m.handlers = d.strings()
	m.request = d.bytes()
	m.env = d.bytes()
	m.state = d.bytes()
	l := &m.limits
	l.ScriptTimeout = time.Duration(d.uint())
	l.WallTimeout = time.Duration(d.uint())
	l.MaxStackDepth = d.int()
	l.MaxStringBytes = d.int()
	l.MaxArrayLength = d.int()
	l.MaxJSONBytes = d.int()
	l.MaxStateBytes = d.int()
	l.MaxLogLines = d.int()
	l.MaxLogLineBytes = d.int()
	l.MaxFetches = d.int()
	l.MaxKVOps = d.int()
	m.check = d.bool()
}

// kindNeedSource is the worker's answer when it does not hold the program
// and the invocation carried no source; the parent resends with the source.
const kindNeedSource ErrorKind = "need-source"

// resultMsg is a frameResult payload.
type resultMsg struct {
	kind    ErrorKind // empty on success
	message string
	line    int
	column  int
	verbs   []byte
	state   []byte
	logs    []LogEntry
	// retire says the worker exits after this result (memory high, CPU
	// budget spent, or an internal panic): the parent replaces it.
	retire bool
}

func (m *resultMsg) encode(e *encoder) {
	e.string(string(m.kind))
	e.string(m.message)
	e.uint(uint64(m.line))
	e.uint(uint64(m.column))
	e.bytes(m.verbs)
	e.bytes(m.state)
	e.uint(uint64(len(m.logs)))
	for _, l := range m.logs {
		e.uint(uint64(l.Time.UnixNano()))
		e.string(l.Level)
		e.string(l.Message)
	}
	e.bool(m.retire)
}

func (m *resultMsg) decode(d *decoder) {
	m.kind = ErrorKind(d.string())
	m.message = d.string()
	m.line = d.int()
	m.column = d.int()
	m.verbs = d.bytes()
	m.state = d.bytes()
	n := d.uint()
	if n > uint64(len(d.b)) {
		d.fail()
		return
	}
	if n > 0 {
		m.logs = make([]LogEntry, 0, n)
	}
	for range n {
		t := time.Unix(0, int64(d.uint()))
		m.logs = append(m.logs, LogEntry{Time: t, Level: d.string(), Message: d.string()})
	}
	m.retire = d.bool()
}

// Host calls: ctx.kv and ctx.fetch, executed by the parent.
const (
	opKVGet  byte = 1
	opKVSet  byte = 2
	opKVIncr byte = 3
	opKVDel  byte = 4
	opFetch  byte = 5
)

// hostCall is a frameHostCall payload.
type hostCall struct {
	op      byte
	key     string // kv key, or the fetch URL
	value   string // kv value, or the fetch method
	number  float64
	ttl     float64 // seconds; the fetch timeout in seconds
	headers []string
	body    []byte
}

func (c *hostCall) encode(e *encoder) {
	e.byte(c.op)
	e.string(c.key)
	e.string(c.value)
	e.float(c.number)
	e.float(c.ttl)
	e.strings(c.headers)
	e.bytes(c.body)
}

func (c *hostCall) decode(d *decoder) {
	c.op = d.byte()
	c.key = d.string()
	c.value = d.string()
	c.number = d.float()
	c.ttl = d.float()
	c.headers = d.strings()
	c.body = d.bytes()
}

// hostReply is a frameHostReply payload.
type hostReply struct {
	err     string // non-empty: the call failed; the script sees an Error with this text
	found   bool
	value   string // kv value, or the fetch status text
	number  float64
	status  int
	headers []string
	body    []byte
}

func (r *hostReply) encode(e *encoder) {
	e.string(r.err)
	e.bool(r.found)
	e.string(r.value)
	e.float(r.number)
	e.uint(uint64(r.status))
	e.strings(r.headers)
	e.bytes(r.body)
}

func (r *hostReply) decode(d *decoder) {
	r.err = d.string()
	r.found = d.bool()
	r.value = d.string()
	r.number = d.float()
	r.status = d.int()
	r.headers = d.strings()
	r.body = d.bytes()
}
