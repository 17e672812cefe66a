package mail

import (
	"bytes"
	"context"
	"embed"
	htmltemplate "html/template"
	"net/url"
	"regexp"
	"strings"
	texttemplate "text/template"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/internal/textfield"
	"github.com/seliq/seliq/jobs"
)

// Job is one message to send: River's args. Everything the message says
// is fixed when it is queued, with its Message-ID, so every attempt sends
// the same message.
type Job struct {
	OrganizationID uuid.UUID `json:"organization_id"`
	// MessageID is the Message-ID's local part, derived from what the
	// message is about (a notification's id) or drawn once at queueing.
	MessageID string  `json:"message_id"`
	To        string  `json:"to"`
	Content   Content `json:"content"`
	// ReportID attaches that report's file, read when the message is sent
	// (up to MaxAttachment; a larger one is announced, not attached).
	ReportID *uuid.UUID `json:"report_id,omitempty"`
}

// Kind is River's job kind.
func (Job) Kind() string { return "email" }

// Content is a message's substance. Heading, Intro and Link are Seliq's
// own words; Quoted is text from outside (an alert's title, a note) that
// the message shows escaped, with its links defused, under a label saying
// where it came from.
type Content struct {
	Heading string `json:"heading"`
	Intro   string `json:"intro,omitempty"`
	// Quoted is untrusted text; QuotedFrom names its source ("the alert
	// source", "a note").
	Quoted     string `json:"quoted,omitempty"`
	QuotedFrom string `json:"quoted_from,omitempty"`
	// Link is a path on the server's public URL (/api/v1/incidents/…).
	Link string `json:"link,omitempty"`
}

//go:embed templates
var templateFS embed.FS

var (
	textTemplates = texttemplate.Must(texttemplate.ParseFS(templateFS, "templates/*.txt"))
	htmlTemplates = htmltemplate.Must(htmltemplate.ParseFS(templateFS, "templates/*.html"))
)

// view is what the templates see; Quoted is already defused.
type view struct {
	Heading, Intro, Quoted, QuotedFrom, Link string
}

// maxQuoted bounds the outside text a message carries, in runes.
const maxQuoted = 2000

// render builds the subject and both bodies of c, with links on base.
func render(c Content, base string) (subject, text, html string, err error) {
	v := view{Heading: oneLine(c.Heading), Intro: c.Intro, QuotedFrom: c.QuotedFrom}
	if c.Quoted != "" {
		v.Quoted = Defuse(textfield.Truncate(c.Quoted, maxQuoted))
		if v.QuotedFrom == "" {
			v.QuotedFrom = "an outside source"
		}
	}
	if c.Link != "" && base != "" {
		if u, perr := url.Parse(base + c.Link); perr == nil && (u.Scheme == "https" || u.Scheme == "http") {
			v.Link = u.String()
		}
	}
	var tb, hb bytes.Buffer
	if err := textTemplates.ExecuteTemplate(&tb, "message.txt", v); err != nil {
		return "", "", "", err
	}
	if err := htmlTemplates.ExecuteTemplate(&hb, "message.html", v); err != nil {
		return "", "", "", err
	}
	return "[Seliq] " + textfield.Truncate(v.Heading, 200), tb.String(), hb.String(), nil
}

// oneLine keeps a header value on one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

var (
	schemeRE = regexp.MustCompile(`(?i)\b(h)(tt)(ps?)\b`)
	dotRE    = regexp.MustCompile(`([\p{L}\p{N}])\.([\p{L}\p{N}])`)
)

// Defuse makes text from outside unable to act as a link in any mail
// client, the way analysts write indicators: "http" becomes "hxxp", "://"
// becomes "[://]", the dots between a name's labels become "[.]" and "@"
// becomes "[at]". The templates escape the result for HTML.
func Defuse(s string) string {
	s = strings.ReplaceAll(s, "://", "[://]")
	s = schemeRE.ReplaceAllString(s, "${1}xx${3}")
	s = strings.ReplaceAll(s, "@", "[at]")
	// Twice: a match consumes the letter after the dot, so "a.b.c" needs a
	// second pass for its second dot.
	s = dotRE.ReplaceAllString(s, "$1[.]$2")
	s = dotRE.ReplaceAllString(s, "$1[.]$2")
	return strings.ReplaceAll(s, "www.", "www[.]")
}

// maxAttempts is how often a message is tried: River's backoff (attempt⁴
// seconds) spreads 20 attempts over about two days, enough for a server
// down for maintenance or settings fixed the next morning.
const maxAttempts = 20

// Enqueue queues j in the transaction of c (a storage.InTx client): the
// message is sent if and only if the change that decided it commits.
func Enqueue(ctx context.Context, c *ent.Client, j Job) error {
	return jobs.EnqueueTx(ctx, c, j, &river.InsertOpts{MaxAttempts: maxAttempts})
}
