package stream

// SharedFields exposes the audit table to the schema test.
var SharedFields = sharedFields
