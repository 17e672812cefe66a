// Package chat is the analyst's conversation with the AI about one alert or
// one incident: the stored history, and sending a question, which is
// answered by the organisation's provider (with read-only tools over the
// organisation's own data) or, with no provider configured, by the
// built-in analyst.
//
// A question and its answer are stored together, in one transaction, once
// the answer is complete. When the provider fails nothing is stored and
// the error is returned, so the history never holds a question without an
// answer and retrying does not duplicate the question.
package chat

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	aiconfig "github.com/seliq/seliq/ai/config"
	"github.com/seliq/seliq/ai/provider"
	"github.com/seliq/seliq/analysis"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/alert"
	"github.com/seliq/seliq/ent/chatmessage"
	"github.com/seliq/seliq/ent/incident"
	"github.com/seliq/seliq/ent/predicate"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/features"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/paging"
	"github.com/seliq/seliq/internal/textfield"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/outbound"
	"github.com/seliq/seliq/storage"
)

// MaxMessageLength bounds a question, in characters.
const MaxMessageLength = 4000

// Bounds of one answer.
const (
	// maxToolRounds is how many rounds of tool calls the model may make
	// before it is asked to answer (one more call).
	maxToolRounds = 4
	// maxAnswerTokens caps each completion.
	maxAnswerTokens = 1500
)

// Kind is what a conversation is about.
type Kind string

// The kinds.
const (
	KindAlert    Kind = "alert"
	KindIncident Kind = "incident"
)

// Target names the alert or incident a conversation is about.
type Target struct {
	Kind Kind
	ID   uuid.UUID
}

// Alert is the conversation about an alert.
func Alert(id uuid.UUID) Target { return Target{KindAlert, id} }

// Incident is the conversation about an incident.
func Incident(id uuid.UUID) Target { return Target{KindIncident, id} }

// Service answers and stores conversations.
type Service struct {
	client  *ent.Client
	ai      *aiconfig.Service
	analyst *analysis.Service
	log     *slog.Logger
}

// New returns the service.
func New(client *ent.Client, ai *aiconfig.Service, analyst *analysis.Service, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	return &Service{client: client, ai: ai, analyst: analyst, log: log}
}

// Exchange is a stored question and its answer.
type Exchange struct {
	UserMessage *ent.ChatMessage
	Reply       *ent.ChatMessage
}

// History pages through a conversation, oldest first. An alert or incident
// the viewer cannot see is not found.
func (s *Service) History(ctx context.Context, t Target, page paging.Page) (*ent.ChatMessageConnection, error) {
	if err := s.visible(ctx, t); err != nil {
		return nil, err
	}
	page, err := page.ByTime()
	if err != nil {
		return nil, err
	}
	order := &ent.ChatMessageOrder{Field: ent.ChatMessageOrderFieldCreatedAt, Direction: paging.Asc}
	return paging.Paginate(ctx, page, s.client.ChatMessage.Query().Where(onTarget(t)).Paginate, ent.WithChatMessageOrder(order))
}

func onTarget(t Target) predicate.ChatMessage {
	if t.Kind == KindIncident {
		return chatmessage.IncidentID(t.ID)
	}
	return chatmessage.AlertID(t.ID)
}

// visible reports a missing alert or incident, or one of another
// organisation, as not found.
func (s *Service) visible(ctx context.Context, t Target) error {
	var ok bool
	var err error
	switch t.Kind {
	case KindAlert:
		ok, err = s.client.Alert.Query().Where(alert.ID(t.ID)).Exist(ctx)
	case KindIncident:
		ok, err = s.client.Incident.Query().Where(incident.ID(t.ID)).Exist(ctx)
	default:
		return fmt.Errorf("chat: unknown target kind %q", t.Kind)
	}
	if err != nil {
		return err
	}
	if !ok {
		return apperr.NotFoundf("%s %s not found", t.Kind, t.ID)
	}
	return nil
}

// Send answers message and stores the exchange.
func (s *Service) Send(ctx context.Context, t Target, message string) (*Exchange, error) {
	turn, err := s.Prepare(ctx, t, message)
	if err != nil {
		return nil, err
	}
	return turn.Run(ctx, nil)
}

// Turn is a question checked and ready to answer: everything that can be
// refused (bad input, an invisible target, chat turned off, the quota used
// up) has been, so a streaming caller can report those before it starts.
type Turn struct {
	svc      *Service
	target   Target
	question string
	asked    time.Time
	userID   *uuid.UUID
	p        *aiconfig.Provider
	subject  *subject
}

// Prepare validates message, loads the target and opens the provider,
// whose reservation against the quota Run releases.
func (s *Service) Prepare(ctx context.Context, t Target, message string) (*Turn, error) {
	q, err := textfield.Required("message", message, MaxMessageLength)
	if err != nil {
		return nil, err
	}
	v := viewer.FromContext(ctx)
	if v == nil {
		return nil, apperr.New(apperr.Unauthenticated, "authentication required")
	}
	if v.Kind != viewer.KindUser {
		return nil, apperr.New(apperr.Forbidden, "only users chat")
	}
	if !v.CanWrite() {
		return nil, apperr.New(apperr.Forbidden, "requires the analyst role")
	}
	me, err := s.client.User.Get(viewer.Home(ctx), v.UserID)
	if err != nil {
		return nil, err
	}
	if !features.On(me, features.AIChat) {
		return nil, apperr.New(apperr.Forbidden, "AI chat is turned off for you (feature ai_chat); turn it back on with PATCH /api/v1/settings/features/ai_chat")
	}
	subj, err := s.load(ctx, t)
	if err != nil {
		return nil, err
	}
	uid := v.UserID
	// The switch is checked on the settings Open reads, before any quota
	// is reserved: one read of the settings per question.
	p, err := s.ai.Open(ctx, aiconfig.FeatureChat, &uid, func(st aiconfig.Settings) error {
		if !st.Features.Chat {
			return apperr.New(apperr.Forbidden, "AI chat is turned off for this organisation; an administrator can turn it on in the AI settings (features.chat)")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &Turn{svc: s, target: t, question: q, asked: time.Now().UTC(), userID: &uid, p: p, subject: subj}, nil
}

// Run answers the question, calling onDelta (when not nil) with each
// fragment of the answer as it is produced, then stores the exchange. An
// error from onDelta stops the answer; nothing is stored then.
func (t *Turn) Run(ctx context.Context, onDelta func(string) error) (*Exchange, error) {
	defer func() {
		if err := t.p.Release(ctx); err != nil {
			t.svc.log.Error("release ai reservation", "target", t.target.Kind, "id", t.target.ID, "err", err)
		}
	}()
	var ans answer
	var err error
	if t.p.Builtin() {
		ans, err = t.builtinAnswer(ctx, onDelta)
	} else {
		ans, err = t.providerAnswer(ctx, onDelta)
	}
	if err != nil {
		return nil, err
	}
	return t.store(ctx, ans)
}

// answer is a finished reply and what it cost.
type answer struct {
	content string
	usage   provider.Usage
}

func (t *Turn) store(ctx context.Context, ans answer) (*Exchange, error) {
	content := strings.TrimSpace(ans.content)
	if content == "" {
		content = "(The model returned an empty answer.)"
	}
	content = textfield.Sanitize(content)
	var out Exchange
	err := storage.InTx(ctx, t.svc.client, func(tx *ent.Tx) error {
		var err error
		if out.UserMessage, err = t.create(tx, enum.ChatRoleUser, t.question).
			SetNillableUserID(t.userID).SetCreatedAt(t.asked).SetUpdatedAt(t.asked).Save(ctx); err != nil {
			return err
		}
		out.Reply, err = t.create(tx, enum.ChatRoleAssistant, content).
			SetPromptTokens(ans.usage.PromptTokens).SetCompletionTokens(ans.usage.CompletionTokens).Save(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	out.UserMessage, out.Reply = out.UserMessage.Unwrap(), out.Reply.Unwrap()
	return &out, nil
}

func (t *Turn) create(tx *ent.Tx, role enum.ChatRole, content string) *ent.ChatMessageCreate {
	c := tx.ChatMessage.Create().SetRole(role).SetContent(content)
	if t.target.Kind == KindIncident {
		return c.SetIncidentID(t.target.ID)
	}
	return c.SetAlertID(t.target.ID)
}

// providerError turns a failed provider call into an error the caller can
// act on; nothing has been stored. The caller learns the failure's category
// only (the provider's answer could be another service's body); the error
// itself goes to log.
func providerError(ctx context.Context, log *slog.Logger, err error) error {
	if err == nil {
		return nil
	}
	if e, ok := apperr.As(err); ok {
		return e
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	var apiErr *provider.APIError
	if errors.As(err, &apiErr) {
		switch {
		case apiErr.Status == http.StatusTooManyRequests:
			return &apperr.Error{Code: apperr.RateLimited, RetryAfter: apiErr.RetryAfter,
				Message: "the AI provider is rate limiting this organisation's requests; nothing was stored, retry in a moment"}
		case apiErr.Status == http.StatusUnauthorized || apiErr.Status == http.StatusForbidden:
			return apperr.New(apperr.Internal, "the AI provider refused the configured credentials (HTTP %d); nothing was stored. An administrator should check the API key in the AI settings", apiErr.Status)
		}
	}
	f := outbound.Logged(ctx, log, "ai provider failed to answer a chat question", err)
	return apperr.New(apperr.Internal, "the AI provider failed to answer (%s); nothing was stored, retry the question", f.Message())
}

// StreamEvent is one event of a streamed answer (GraphQL ChatStreamEvent).
// Err, set on the last event of a failed answer, is reported as the
// message field's error.
type StreamEvent struct {
	Delta       string
	Done        bool
	Message     *ent.ChatMessage
	UserMessage *ent.ChatMessage
	Err         error
}

// streamBuffer is how many fragments may wait for a slow subscriber before
// the answer waits for it.
const streamBuffer = 64

// Stream checks the question now (so refusals are the operation's error)
// and answers it in the background, sending the answer's fragments and,
// last, the stored exchange or the failure. The channel closes after the
// last event, or early when ctx ends (the subscriber left; nothing is
// stored then).
func (s *Service) Stream(ctx context.Context, t Target, message string) (<-chan *StreamEvent, error) {
	turn, err := s.Prepare(ctx, t, message)
	if err != nil {
		return nil, err
	}
	out := make(chan *StreamEvent, streamBuffer)
	go func() {
		defer close(out)
		defer func() {
			// The answer runs outside gqlgen's recovery; a panic ends
			// this stream, not the server.
			if r := recover(); r != nil {
				s.log.Error("chat answer panicked", "target", t.Kind, "id", t.ID, "panic", r)
				select {
				case out <- &StreamEvent{Done: true, Err: apperr.New(apperr.Internal, "internal error")}:
				default:
				}
			}
		}()
		send := func(ev *StreamEvent) error {
			select {
			case out <- ev:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		ex, err := turn.Run(ctx, func(d string) error { return send(&StreamEvent{Delta: d}) })
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			s.log.Warn("chat answer failed", "target", t.Kind, "id", t.ID, "err", err)
			_ = send(&StreamEvent{Done: true, Err: err})
		default:
			_ = send(&StreamEvent{Done: true, Message: ex.Reply, UserMessage: ex.UserMessage})
		}
	}()
	return out, nil
}
