package sandbox

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSmoke(t *testing.T) {
	p, err := New(Config{Workers: 1})
	require.NoError(t, err)
	defer p.Close()
	res, err := p.Invoke(context.Background(), Invocation{App: "a@1", Source: `export default { call(req, ctx) { ctx.log.info('hi', req); return new Verbs().say({text: 'hello ' + req.from}) } }`, Handlers: []string{"call"}, Request: []byte(`{"from":"bob"}`)})
	require.NoError(t, err)
	t.Logf("%s %s %v %v", res.Verbs, res.State, res.Logs, res.Duration)
}
