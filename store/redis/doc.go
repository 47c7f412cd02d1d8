// Package redisstore is voxrun's live state on Redis: what a production site,
// or a cluster of voxrun nodes sharing one Redis, uses instead of
// store/memory. The directory is store/redis; the package is named
// redisstore so that it never shadows go-redis's package redis.
//
// It implements [store.Live] on go-redis v9 through redis.UniversalClient, so
// one code path serves a plain server, Sentinel and Cluster ([Open] documents
// the URL forms). It writes exactly the key layout of seed 000 and issue 3,
// so that jambonz's own tools can read it:
//
//	call:{accountSid}:{callSid}  hash of the call's fields; TTL 12 h at creation, 1 h once ended
//	active-call-sids             sorted set of call keys, score = ms since the epoch
//	user:{name}@{domain}         hash of a registration; TTL = the granted expiry
//	queue:{accountSid}:{name}    sorted set, member = call SID, score = priority·2^42 + arrival ms
//	conf:{accountSid}:{name}     hash, call SID → JSON of the member
//	tts:{key}                    cached audio (string), with its TTL
//	kv:{accountSid}:{key}        a JS app's value (string), with its TTL
//	lock:{name}                  a lease: SET NX PX with a random token, released by compare-and-delete
//	{key}                        Values are plain keys, named by the caller
//
// Each logical operation is one round trip where Redis allows it (a MULTI
// pipeline, or one command). Publish/subscribe uses Redis PUBLISH/SUBSCRIBE.
//
// It is not a cache of provisioning data and holds nothing that must
// survive the loss of Redis: provisioning lives in store/sql.
package redisstore
