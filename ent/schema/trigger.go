package schema

import (
	"encoding/json"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/seliq/seliq/ent/schematype"
	"github.com/seliq/seliq/enum"
)

// AutomationTrigger is a trigger: on an event (an alert created, merged or
// updated, an incident created or updated, an SLA at risk or breached),
// when its condition holds, its actions run in the change's transaction
// (GraphQL's Trigger).
type AutomationTrigger struct{ ent.Schema }

// Mixin of the AutomationTrigger.
func (AutomationTrigger) Mixin() []ent.Mixin { return []ent.Mixin{BaseMixin{}, TenantMixin{}} }

// Fields of the AutomationTrigger.
func (AutomationTrigger) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").Comment("What the trigger is called, 1 to 200 characters.").NotEmpty().MaxLen(200).Annotations(entgql.OrderField("NAME")),
		field.Bool("enabled").Comment("Whether it runs; set false after 20 consecutive failures.").Default(true),
		field.String("event").Comment("The event it runs on.").GoType(enum.TriggerEvent("")).Annotations(entgql.Type("TriggerEvent")),
		field.Text("condition").Comment("A query-language expression over the event's object (and changes on updates); empty matches every object.").Default(""),
		field.JSON("actions", json.RawMessage{}).Comment("The actions run in order when the condition holds, as a JSON list (see the README's Automation).").Annotations(entgql.Type("JSON")),
		field.Bool("stop_processing").Comment("Whether triggers after it (by position) are skipped for the object once it matched.").Default(false),
		field.Int("position").Comment("Its place among the organisation's triggers of the same event: 1, 2, 3… with no gaps.").Annotations(entgql.OrderField("POSITION")),
		field.Time("active_from").Comment("It matches only from this instant (null: no start).").Optional().Nillable(),
		field.Time("active_until").Comment("It matches only before this instant (null: no end).").Optional().Nillable(),
		field.JSON("schedule", &schematype.TriggerSchedule{}).Comment("A weekly window it matches in (null: always).").Optional().Annotations(entgql.Type("TriggerSchedule")),
		field.Int("fired_count").Comment("How many objects it matched and acted on.").Default(0),
		field.Time("last_fired_at").Comment("When it last fired.").Optional().Nillable(),
		field.Text("last_error").Comment("The last action failure; empty once it ran cleanly again.").Default(""),
		field.Int("failure_count").Comment("Consecutive failed runs; 20 disable it.").Default(0),
	}
}

// Indexes of the AutomationTrigger: positions are unique per event, so the
// order triggers run in is never ambiguous.
func (AutomationTrigger) Indexes() []ent.Index {
	return []ent.Index{index.Fields("organization_id", "event", "position").Unique()}
}

// Annotations of the AutomationTrigger. Neither the type nor the table is
// named Trigger: a first design's triggers table and its indexes (named
// after the type) may remain in old databases. GraphQL calls it Trigger.
func (AutomationTrigger) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("automation_triggers"), entgql.RelayConnection(), entgql.Type("Trigger")}
}
