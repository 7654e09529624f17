package gatewayapi

import (
	"fmt"
	"strings"
)

// importedKey is one row of an ImportApiKeys file.
type importedKey struct {
	Line         int // 1-based, for messages
	Name         string
	Key          string
	Description  string
	Enabled      bool
	UsagePlanIDs []string
}

// parseKeyCSV reads an API key file as API Gateway documents it ("API Gateway API key file
// format"): a header row whose column names are matched case-insensitively and may come in
// any order, Key and Name required, Description, Enabled and UsagePlanIds optional, other
// columns ignored. A field may be enclosed in double or single quotes, which is how a
// UsagePlanIds value lists several ids ("c7y23b,glvrsr"); inside quotes a doubled quote
// character stands for itself. Enabled defaults to true; blank lines are skipped.
func parseKeyCSV(text string) ([]importedKey, error) {
	rows, err := splitCSV(text)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("the API key file is empty: it needs a header row with Key and Name columns")
	}
	col := map[string]int{}
	for i, h := range rows[0].fields {
		name := strings.ToLower(strings.TrimSpace(h))
		if _, dup := col[name]; dup && name != "" {
			return nil, fmt.Errorf("line 1: column %q appears twice", h)
		}
		col[name] = i
	}
	for _, need := range []string{"key", "name"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("line 1: the header has no %s column; an API key file needs Key and Name columns", need)
		}
	}
	field := func(r csvRow, name string) string {
		if i, ok := col[name]; ok {
			return strings.TrimSpace(r.fields[i])
		}
		return ""
	}
	out := make([]importedKey, 0, len(rows)-1)
	for _, r := range rows[1:] {
		if len(r.fields) != len(rows[0].fields) {
			return nil, fmt.Errorf("line %d: %d fields, but the header has %d", r.line, len(r.fields), len(rows[0].fields))
		}
		k := importedKey{Line: r.line, Name: field(r, "name"), Key: field(r, "key"), Description: field(r, "description"), Enabled: true}
		if n := len(k.Key); n < 20 || n > 128 {
			return nil, fmt.Errorf("line %d: a Key value must be between 20 and 128 characters (it has %d)", r.line, n)
		}
		if len(k.Name) > 1024 {
			return nil, fmt.Errorf("line %d: a Name value cannot exceed 1024 characters", r.line)
		}
		switch e := strings.ToLower(field(r, "enabled")); e {
		case "", "true":
		case "false":
			k.Enabled = false
		default:
			return nil, fmt.Errorf("line %d: Enabled must be true or false, not %q", r.line, e)
		}
		for _, id := range strings.Split(field(r, "usageplanids"), ",") {
			if id = strings.TrimSpace(id); id != "" {
				k.UsagePlanIDs = append(k.UsagePlanIDs, id)
			}
		}
		out = append(out, k)
	}
	return out, nil
}

type csvRow struct {
	line   int
	fields []string
}

// splitCSV splits text into rows of fields. A quoted field may hold commas and line
// breaks; a quote may open a field only at its start, and after the closing quote only a
// comma or the end of the line may follow.
func splitCSV(text string) ([]csvRow, error) {
	var rows []csvRow
	line := 1
	i := 0
	for i < len(text) {
		start := line
		var fields []string
		for {
			var f strings.Builder
			if i < len(text) && (text[i] == '"' || text[i] == '\'') {
				q := text[i]
				i++
				closed := false
				for i < len(text) {
					c := text[i]
					if c == q {
						if i+1 < len(text) && text[i+1] == q {
							f.WriteByte(q)
							i += 2
							continue
						}
						i++
						closed = true
						break
					}
					if c == '\n' {
						line++
					}
					f.WriteByte(c)
					i++
				}
				if !closed {
					return nil, fmt.Errorf("line %d: a quoted field is not closed", start)
				}
				if i < len(text) && text[i] == '\r' && i+1 < len(text) && text[i+1] == '\n' {
					i++
				}
				if i < len(text) && text[i] != ',' && text[i] != '\n' {
					return nil, fmt.Errorf("line %d: %q after a closing quote; a quoted field must end the field", line, text[i])
				}
			} else {
				for i < len(text) && text[i] != ',' && text[i] != '\n' {
					if text[i] == '"' {
						return nil, fmt.Errorf("line %d: a quote inside an unquoted field", line)
					}
					if !(text[i] == '\r' && i+1 < len(text) && text[i+1] == '\n') {
						f.WriteByte(text[i])
					}
					i++
				}
			}
			fields = append(fields, f.String())
			if i >= len(text) || text[i] == '\n' {
				break
			}
			i++ // the comma
		}
		if i < len(text) {
			i++ // the line break
			line++
		}
		if len(fields) == 1 && strings.TrimSpace(fields[0]) == "" {
			continue
		}
		rows = append(rows, csvRow{line: start, fields: fields})
	}
	return rows, nil
}
