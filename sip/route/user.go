package route

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/voxrun/voxrun/store"
)

// User returns the target of a call to a registered user of an account
// (the dial verb's user target): name is "alice" or "alice@realm", where
// realm must be the account's SIP realm. The Request-URI is the Contact
// the device registered; the INVITE goes to the address and transport the
// REGISTER came from (Proxy), so that it reaches a device behind NAT
// through its pinhole. An unknown account is a *RejectError 403; a user
// not registered now is 404 wrapping ErrNotRegistered.
func (r *Router) User(ctx context.Context, accountSID, name string) (OutboundTarget, error) {
	if r.cfg.Registrations == nil {
		return OutboundTarget{}, fmt.Errorf("%w: Registrations is required to call users", ErrConfig)
	}
	acct, err := r.cfg.Provisioning.Accounts(store.Admin()).Get(ctx, accountSID)
	if errors.Is(err, store.ErrNotFound) || accountSID == "" {
		return OutboundTarget{}, reject(403, "Forbidden", ErrNotAllowed, nil)
	}
	if err != nil {
		return OutboundTarget{}, fmt.Errorf("sip/route: account: %w", err)
	}
	if !acct.IsActive {
		return OutboundTarget{}, reject(403, "Forbidden", ErrInactive, nil)
	}
	user, realm, hasRealm := strings.Cut(strings.TrimPrefix(strings.TrimSpace(name), "sip:"), "@")
	if !hasRealm {
		realm = acct.SIPRealm
	}
	if user == "" || realm == "" || !strings.EqualFold(realm, acct.SIPRealm) {
		// Never another tenant's device.
		return OutboundTarget{}, reject(404, "Not Found", ErrNotRegistered, nil)
	}
	reg, err := r.cfg.Registrations.Registration(ctx, user, strings.ToLower(realm))
	if errors.Is(err, store.ErrNotFound) {
		return OutboundTarget{}, reject(404, "Not Found", ErrNotRegistered, nil)
	}
	if err != nil {
		return OutboundTarget{}, fmt.Errorf("sip/route: registration: %w", err)
	}
	transport := strings.ToLower(reg.Transport)
	if transport == "" {
		transport = "udp"
	}
	contact := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(reg.Contact), "<"), ">")
	t := OutboundTarget{URI: contact, Transport: transport, Number: user}
	if reg.SourceAddress != "" && reg.SourcePort != 0 {
		t.Proxy = net.JoinHostPort(reg.SourceAddress, strconv.Itoa(reg.SourcePort)) + ";transport=" + transport
	}
	return t, nil
}
