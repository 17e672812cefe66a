package hub

import "github.com/google/uuid"

// Changed builds one event per id of a topic's entities that changed in
// organisation org, for Record.
func Changed(org uuid.UUID, topic, kind string, ids ...uuid.UUID) []Event {
	out := make([]Event, len(ids))
	for i, id := range ids {
		out[i] = Event{OrganizationID: org, Topic: topic, Kind: kind, EntityID: id}
	}
	return out
}
