package schematype

// TriggerSchedule is a weekly window a trigger matches in (a maintenance
// window): on the listed days, from From until Until, wall-clock time in
// TimeZone. A window whose Until is not after From runs overnight into the
// next day (22:00–02:00 belongs to the day it starts on).
type TriggerSchedule struct {
	// Days are mon, tue, wed, thu, fri, sat, sun.
	Days []string `json:"days"`
	// From and Until are HH:MM, 24-hour; Until "24:00" is the end of the day.
	From  string `json:"from"`
	Until string `json:"until"`
	// TimeZone is an IANA name (Europe/Berlin); empty is UTC.
	TimeZone string `json:"time_zone"`
}
