package catalogue

// JSON Schema (draft 2020-12) helpers for connector settings. Secrets are marked
// writeOnly so the API never echoes them; "x-required-for-pull" lists the
// settings a connector needs when it is polled rather than pushed to.

const schemaDialect = "https://json-schema.org/draft/2020-12/schema"

func settingsSchema(title string, props map[string]any, requiredForPull ...string) map[string]any {
	if props == nil {
		props = map[string]any{}
	}
	s := map[string]any{
		"$schema":    schemaDialect,
		"title":      title,
		"type":       "object",
		"properties": props,
	}
	if len(requiredForPull) > 0 {
		s["x-required-for-pull"] = requiredForPull
	}
	return s
}

func strProp(desc string) map[string]any {
	return map[string]any{"type": "string", "description": desc}
}

func secretProp(desc string) map[string]any {
	return map[string]any{"type": "string", "writeOnly": true, "minLength": 1, "description": desc}
}

func urlProp(desc, def string) map[string]any {
	p := map[string]any{"type": "string", "format": "uri", "pattern": "^https?://", "description": desc}
	if def != "" {
		p["default"] = def
	}
	return p
}

func strListProp(desc string) map[string]any {
	return map[string]any{"type": "array", "items": map[string]any{"type": "string"}, "uniqueItems": true, "description": desc}
}

func boolProp(desc string, def bool) map[string]any {
	return map[string]any{"type": "boolean", "default": def, "description": desc}
}
