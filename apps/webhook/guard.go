package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// ErrDestinationRefused means the guard refused to connect to an address.
var ErrDestinationRefused = errors.New("webhook: destination not allowed")

// deniedPrefixes are never dialled for a tenant unless the allow-list names
// them: loopback, RFC 1918 and unique-local, link-local (which holds the cloud
// metadata address 169.254.169.254), carrier-grade NAT, "this network",
// multicast and the IPv4-mapped forms of all of these.
var deniedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("127.0.0.0/8"),
	netip.MustParsePrefix("169.254.0.0/16"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("224.0.0.0/4"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("::/128"),
	netip.MustParsePrefix("::1/128"),
	netip.MustParsePrefix("fc00::/7"),
	netip.MustParsePrefix("fe80::/10"),
	netip.MustParsePrefix("ff00::/8"),
	netip.MustParsePrefix("fd00:ec2::254/128"),
}

// Guard decides which destinations outbound tenant requests may reach.
type Guard struct {
	allowNets  []netip.Prefix
	allowHosts map[string]bool
	dialer     net.Dialer
}

// LoopbackAllow is the allow-list of embedded defaults: a webhook app on the
// developer's own machine works out of the box.
var LoopbackAllow = []string{"127.0.0.0/8", "::1/128"}

// NewGuard builds a guard from an allow-list of CIDRs (10.1.0.0/16), single
// addresses (10.1.2.3) and host names (hooks.internal: requests to that name
// may go to whatever it resolves to). connectTimeout bounds each dial.
func NewGuard(allow []string, connectTimeout time.Duration) (*Guard, error) {
	g := &Guard{allowHosts: map[string]bool{}}
	for _, a := range allow {
		a = strings.TrimSpace(a)
		if a == "" {
			continue
		}
		if p, err := netip.ParsePrefix(a); err == nil {
			g.allowNets = append(g.allowNets, p.Masked())
			continue
		}
		if ip, err := netip.ParseAddr(a); err == nil {
			g.allowNets = append(g.allowNets, netip.PrefixFrom(ip, ip.BitLen()))
			continue
		}
		if strings.ContainsAny(a, "/ :") {
			return nil, fmt.Errorf("webhook: allow-list entry %q is neither a CIDR, an address nor a host name", a)
		}
		g.allowHosts[strings.ToLower(strings.TrimSuffix(a, "."))] = true
	}
	if connectTimeout <= 0 {
		connectTimeout = 3 * time.Second
	}
	g.dialer = net.Dialer{Timeout: connectTimeout, KeepAlive: 30 * time.Second}
	return g, nil
}

// Allowed reports whether ip may be dialled.
func (g *Guard) Allowed(ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, p := range g.allowNets {
		if p.Contains(ip) {
			return true
		}
	}
	for _, p := range deniedPrefixes {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// DialContext dials addr ("host:port") like net.Dialer, refusing addresses
// the guard does not allow. The check runs on the IP the socket is about to
// connect to (in the dialer's Control hook), after name resolution, so a name
// that resolves to a private address — or rebinds to one between two look-ups —
// is refused.
func (g *Guard) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("webhook: dial %s: %w", addr, err)
	}
	if g.allowHosts[strings.ToLower(strings.TrimSuffix(host, "."))] {
		return g.dialer.DialContext(ctx, network, addr)
	}
	d := g.dialer
	d.Control = func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("%w: %s", ErrDestinationRefused, address)
		}
		if !g.Allowed(ap.Addr()) {
			return fmt.Errorf("%w: %s is a loopback, private, link-local or reserved address", ErrDestinationRefused, ap.Addr())
		}
		return nil
	}
	return d.DialContext(ctx, network, addr)
}
