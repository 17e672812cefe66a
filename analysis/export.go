package analysis

import (
	"context"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ai/builtin"
	"github.com/seliq/seliq/ent"
)

// The context gathering and the built-in analyst, for the chat: it runs
// with the caller's context, so every query is confined to the caller's
// organisation like any other.

// BuiltinAlert runs the built-in analyst on an alert with its gathered
// context, without storing anything.
func (s *Service) BuiltinAlert(ctx context.Context, alertID uuid.UUID) (builtin.Analysis, error) {
	_, _, an, err := s.analyseAlert(ctx, alertID)
	return an, err
}

// BuiltinIncident runs the built-in analyst on an incident, its alerts and
// its timeline, without storing anything.
func (s *Service) BuiltinIncident(ctx context.Context, incidentID uuid.UUID) (builtin.IncidentAnalysis, error) {
	_, _, _, an, err := s.analyseIncident(ctx, incidentID)
	return an, err
}

// AlertContext gathers the alerts and incidents related to a (same
// fingerprint, shared entities) and the disposition history of its
// fingerprint; related are the related alerts' rows, as loaded.
func (s *Service) AlertContext(ctx context.Context, a *ent.Alert) (c builtin.Context, related []*ent.Alert, err error) {
	return s.alertContext(ctx, a)
}

// Timeline reads an incident's events in the order they occurred.
func (s *Service) Timeline(ctx context.Context, incidentID uuid.UUID) ([]builtin.Event, error) {
	return s.timeline(ctx, incidentID)
}
