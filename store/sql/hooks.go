package sqlstore

import (
	"context"
	"fmt"
	"reflect"
	"strings"

	"github.com/google/uuid"

	"github.com/voxrun/voxrun/store"
)

// Hooks (a record's *store.Webhook fields) live as rows of the webhooks
// table; the record's column holds the webhook_sid. A webhook row belongs to
// exactly one parent row: it is created, replaced and deleted with it.

// insertHook stores wh as a new webhooks row and sets its sid.
func (d *DB) insertHook(ctx context.Context, q queryer, wh *store.Webhook) error {
	if wh.URL == "" {
		return fmt.Errorf("url is required: %w", store.ErrInvalid)
	}
	if wh.Method == "" {
		wh.Method = "POST"
	}
	wh.WebhookSID = uuid.NewString()
	t := d.schema.webhooks
	v := reflect.ValueOf(wh).Elem()
	marks := make([]string, len(t.m.fields))
	args := make([]any, len(t.m.fields))
	for i, f := range t.m.fields {
		a, err := d.arg(f, v)
		if err != nil {
			return err
		}
		marks[i], args[i] = "?", a
	}
	_, err := q.ExecContext(ctx, "INSERT INTO `webhooks` ("+t.m.columns()+") VALUES ("+strings.Join(marks, ", ")+")", args...)
	return err
}

// replaceHook overwrites the webhooks row wh.WebhookSID with wh.
func (d *DB) replaceHook(ctx context.Context, q queryer, wh *store.Webhook) error {
	if wh.URL == "" {
		return fmt.Errorf("url is required: %w", store.ErrInvalid)
	}
	if wh.Method == "" {
		wh.Method = "POST"
	}
	t := d.schema.webhooks
	v := reflect.ValueOf(wh).Elem()
	var sets []string
	var args []any
	for _, f := range t.m.fields {
		if f.col == t.pk {
			continue
		}
		a, err := d.arg(f, v)
		if err != nil {
			return err
		}
		sets = append(sets, quote(f.col)+" = ?")
		args = append(args, a)
	}
	_, err := q.ExecContext(ctx, "UPDATE `webhooks` SET "+strings.Join(sets, ", ")+" WHERE `webhook_sid` = ?",
		append(args, wh.WebhookSID)...)
	return err
}

func (d *DB) deleteHooks(ctx context.Context, q queryer, sids []string) error {
	for _, sid := range sids {
		if _, err := q.ExecContext(ctx, "DELETE FROM `webhooks` WHERE `webhook_sid` = ?", sid); err != nil {
			return err
		}
	}
	return nil
}

// loadHooks replaces the sid-only webhooks that fill left in the hook fields
// of recs with the stored webhooks, in one query per 500 sids.
func (d *DB) loadHooks(ctx context.Context, q queryer, m *mapping, recs []reflect.Value) error {
	var sids []any
	for _, v := range recs {
		for _, hf := range m.hooks {
			if wh := v.FieldByIndex(hf.index).Interface().(*store.Webhook); wh != nil {
				sids = append(sids, wh.WebhookSID)
			}
		}
	}
	byID := make(map[string]store.Webhook, len(sids))
	t := d.schema.webhooks
	for start := 0; start < len(sids); start += maxBatch {
		chunk := sids[start:min(start+maxBatch, len(sids))]
		hooks, err := selectRows[store.Webhook](ctx, d, q, t,
			"WHERE `webhook_sid` IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(chunk)), ", ")+")", chunk)
		if err != nil {
			return err
		}
		for _, h := range hooks {
			byID[h.WebhookSID] = h
		}
	}
	for _, v := range recs {
		for _, hf := range m.hooks {
			fv := v.FieldByIndex(hf.index)
			wh := fv.Interface().(*store.Webhook)
			if wh == nil {
				continue
			}
			if h, ok := byID[wh.WebhookSID]; ok {
				fv.Set(reflect.ValueOf(&h))
			} else {
				fv.Set(reflect.Zero(hookType)) // dangling sid: no webhook
			}
		}
	}
	return nil
}
