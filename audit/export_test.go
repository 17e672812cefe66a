package audit

// Exported for the external tests, which need storage (itself importing
// audit) to open databases.
var RecordColumnar = recordColumnar

const ColumnarChunk = columnarChunk
