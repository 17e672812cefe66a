package action

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/riverqueue/river"

	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/secrets"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/outbound"
)

// SecretContext binds sealed webhook secrets to their use (internal/secrets).
const SecretContext = "automation.webhook"

// Webhook headers: the signature of the body, the delivery's id (the same
// on every retry, so a receiver can drop repeats) and the event.
const (
	HeaderSignature = "X-Seliq-Signature"
	HeaderDelivery  = "X-Seliq-Delivery"
	HeaderEvent     = "X-Seliq-Event"
)

// webhookTimeout bounds one call; WebhookAttempts the deliveries tried
// (River's backoff between them grows from seconds to hours).
const (
	webhookTimeout  = 10 * time.Second
	WebhookAttempts = 12
)

var webhookInsertOpts = river.InsertOpts{MaxAttempts: WebhookAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true}}

// WebhookWorker delivers webhook jobs: it opens the secret, signs the body
// and posts it through the organisation's outbound policy (the one SSRF
// policy). Any answer but 2xx, or no answer, fails the attempt and River
// retries it later.
type WebhookWorker struct {
	river.WorkerDefaults[WebhookArgs]
	box      *secrets.Box
	policies outbound.Policies
}

// NewWebhookWorker returns the worker; register it on the jobs runner.
func NewWebhookWorker(box *secrets.Box, policies outbound.Policies) *WebhookWorker {
	return &WebhookWorker{box: box, policies: policies}
}

// Timeout bounds one delivery.
func (w *WebhookWorker) Timeout(*river.Job[WebhookArgs]) time.Duration {
	return webhookTimeout + 5*time.Second
}

// Work sends one delivery.
func (w *WebhookWorker) Work(ctx context.Context, job *river.Job[WebhookArgs]) error {
	a := job.Args
	secret, err := w.box.Open(a.SecretSealed, SecretContext)
	if err != nil {
		return river.JobCancel(fmt.Errorf("webhook %s: the secret cannot be opened: %w", a.DeliveryID, err))
	}
	policy, err := w.policies.For(ctx, a.OrganizationID)
	if err != nil {
		return err
	}
	if _, err := policy.CheckURL(a.URL); err != nil {
		return river.JobCancel(fmt.Errorf("webhook %s: %w", a.DeliveryID, err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.URL, bytes.NewReader(a.Body))
	if err != nil {
		return river.JobCancel(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Seliq-Webhook/1")
	req.Header.Set(HeaderSignature, Sign(secret, a.Body))
	req.Header.Set(HeaderDelivery, a.DeliveryID.String())
	// Redirects are not followed: the signed body goes only where it was
	// configured to.
	res, err := policy.Client(outbound.ClientOptions{Timeout: webhookTimeout}).Do(req)
	if err != nil {
		return fmt.Errorf("webhook %s: %s", a.DeliveryID, outbound.Classify(err).Message())
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("webhook %s: the receiver answered %s", a.DeliveryID, res.Status)
	}
	return nil
}

// SealSecrets replaces each webhook action's clear secret by its sealed
// form, in place, before a list is stored: secrets are encrypted at rest
// and never returned (Redact).
func SealSecrets(box *secrets.Box, list []Action) error {
	for i := range list {
		a := &list[i]
		if a.Type != TypeWebhook || a.Secret == "" {
			continue
		}
		if box == nil {
			return fmt.Errorf("action: no secret key to seal webhook secrets with")
		}
		sealed, err := box.Seal(a.Secret, SecretContext)
		if err != nil {
			return err
		}
		a.SecretSealed, a.Secret = sealed, ""
	}
	return nil
}

// CheckURLs refuses a list whose webhook URL the organisation's outbound
// policy refuses (a private address it does not allow, a bad scheme), as
// a 422 naming <field>[i].url: a list is checked when saved with the
// policy WebhookWorker applies when sending.
func (e *Executor) CheckURLs(ctx context.Context, list []Action, field string) error {
	var policy *outbound.Policy
	for i, a := range list {
		if a.Type != TypeWebhook {
			continue
		}
		if policy == nil {
			var err error
			if policy, err = e.policy(ctx); err != nil {
				return err
			}
		}
		if _, err := policy.CheckURL(a.URL); err != nil {
			return apperr.Invalid(fmt.Sprintf("%s[%d].url", field, i), "the outbound policy refuses this destination (%s)", reason(err))
		}
	}
	return nil
}

// policy is the acting organisation's outbound policy (public
// destinations only without Policies).
func (e *Executor) policy(ctx context.Context) (*outbound.Policy, error) {
	if e.deps.Policies == nil {
		return outbound.NewPolicy(), nil
	}
	v := viewer.FromContext(ctx)
	if v == nil || v.OrgID == uuid.Nil {
		return nil, apperr.New(apperr.Forbidden, "no organisation to check webhook URLs for")
	}
	return e.deps.Policies.For(ctx, v.OrgID)
}

// reason is the policy's refusal without the package's prefix: the URL is
// the person's own, so what is wrong with it may be said.
func reason(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, ": "); i >= 0 {
		return msg[i+2:]
	}
	return msg
}
