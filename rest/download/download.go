// Package download serves the binary routes of the REST surface, the only
// hand-written ones besides the ingest webhook (ARCHITECTURE.md): a
// report's file, and the report template as a file, down and up. Each
// calls the same report.Service methods as GraphQL, so roles and tenancy
// are the same.
package download

import (
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/report"
	"github.com/seliq/seliq/rest"
)

// maxTemplateUpload bounds an uploaded template with its multipart
// envelope; the template itself is bounded by the renderer.
const maxTemplateUpload = 512 << 10

// templateFileName is the name the template downloads under.
const templateFileName = "seliq-report-template.md.tmpl"

// Report serves GET /incidents/{incident_id}/reports/{report_id}/download.
func Report(s *report.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		incidentID, err := pathID(r, "incident_id")
		if err != nil {
			rest.WriteError(w, err)
			return
		}
		reportID, err := pathID(r, "report_id")
		if err != nil {
			rest.WriteError(w, err)
			return
		}
		rep, err := s.Download(r.Context(), incidentID, reportID)
		if err != nil {
			rest.WriteError(w, err)
			return
		}
		serveFile(w, rep.ContentType, rep.FileName, rep.Content)
	})
}

// Template serves GET /settings/report/template: the template in effect,
// uploaded or built-in.
func Template(s *report.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if viewer.FromContext(r.Context()) == nil {
			rest.WriteError(w, apperr.New(apperr.Unauthenticated, "authentication required"))
			return
		}
		t, err := s.Template(r.Context())
		if err != nil {
			rest.WriteError(w, err)
			return
		}
		w.Header().Set("X-Seliq-Template", map[bool]string{true: "custom", false: "builtin"}[t.Custom])
		serveFile(w, "text/plain; charset=utf-8", templateFileName, []byte(t.Source))
	})
}

// TemplateUpload serves POST /settings/report/template. The
// template comes as the "file" part of a multipart form, or as the raw
// body (text/plain, text/markdown or application/octet-stream).
func TemplateUpload(s *report.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Checked before reading the body, so a refused caller's upload
		// is not read at all; UploadTemplate checks again.
		if err := report.RequireAdmin(r.Context()); err != nil {
			rest.WriteError(w, err)
			return
		}
		src, err := readTemplate(r)
		if err != nil {
			rest.WriteError(w, err)
			return
		}
		t, err := s.UploadTemplate(r.Context(), src)
		if err != nil {
			rest.WriteError(w, err)
			return
		}
		rest.WriteJSON(w, http.StatusOK, map[string]any{"custom": t.Custom, "updated_at": t.UpdatedAt, "bytes": len(t.Source)})
	})
}

// readTemplate reads the uploaded template from a multipart form or the
// raw body.
func readTemplate(r *http.Request) ([]byte, error) {
	body := http.MaxBytesReader(nil, r.Body, maxTemplateUpload)
	mediaType, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil && r.Header.Get("Content-Type") != "" {
		return nil, apperr.Invalid("content_type", "cannot parse Content-Type: %v", err)
	}
	if mediaType != "multipart/form-data" {
		return readAll(body)
	}
	mr, err := multipartReader(body, params["boundary"])
	if err != nil {
		return nil, err
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, apperr.Invalid("file", "the form has no \"file\" part")
		}
		if err != nil {
			return nil, tooLargeOr(err, apperr.Invalid("file", "malformed multipart body: %v", err))
		}
		if part.FormName() == "file" {
			return readAll(part)
		}
	}
}

func readAll(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, tooLargeOr(err, apperr.Invalid("file", "cannot read the template: %v", err))
	}
	return b, nil
}

// tooLargeOr reports an oversized upload as 413 and anything else as other.
func tooLargeOr(err error, other error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return apperr.New(apperr.TooLarge, "template upload exceeds %d bytes", maxTemplateUpload)
	}
	return other
}

// serveFile sends content as an attachment: a report's HTML must not run
// in Seliq's origin, so it is never rendered inline.
func serveFile(w http.ResponseWriter, contentType, name string, content []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	h.Set("Content-Length", strconv.Itoa(len(content)))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	h.Set("Cache-Control", "private, no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(content)
}

func pathID(r *http.Request, name string) (uuid.UUID, error) {
	raw := chi.URLParam(r, name)
	id, err := uuid.Parse(strings.TrimSpace(raw))
	if err != nil {
		return uuid.Nil, apperr.Invalid(name, "%q is not an id", raw)
	}
	return id, nil
}

func multipartReader(body io.Reader, boundary string) (*multipart.Reader, error) {
	if boundary == "" {
		return nil, apperr.Invalid("content_type", "multipart/form-data without a boundary")
	}
	return multipart.NewReader(body, boundary), nil
}
