package functions

import (
	"fmt"
	"strings"
)

// Name is a function reference as AWS callers write it: a bare function name, a partial ARN
// (account:function:name), or a full ARN, each with an optional :qualifier (a version or an
// alias). The qualifier is held apart from the name because a bare name in the config stands
// for every ARN that ends in it, whatever the qualifier.
type Name struct {
	Partition string // set only for a full ARN
	Region    string // set only for a full ARN
	Account   string // set for a full or a partial ARN
	Function  string
	Qualifier string
}

// ParseName splits s, following the forms and character sets Lambda's Invoke accepts for
// FunctionName.
func ParseName(s string) (Name, error) {
	var n Name
	if s == "" {
		return n, fmt.Errorf("function name is empty")
	}
	if len(s) > 170 {
		return n, fmt.Errorf("function name %.40q…: longer than the 170 characters an ARN may have", s)
	}
	parts := strings.Split(s, ":")
	var rest []string
	switch {
	case parts[0] == "arn":
		// arn:partition:lambda:region:account:function:name[:qualifier]
		if len(parts) < 7 || len(parts) > 8 {
			return n, fmt.Errorf("function ARN %q: want arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]", s)
		}
		if !isPartition(parts[1]) || parts[2] != "lambda" || parts[5] != "function" {
			return n, fmt.Errorf("function ARN %q: want arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]", s)
		}
		if !isRegion(parts[3]) {
			return n, fmt.Errorf("function ARN %q: %q is not a region such as us-east-1", s, parts[3])
		}
		if !isAccount(parts[4]) {
			return n, fmt.Errorf("function ARN %q: the account %q is not 12 digits", s, parts[4])
		}
		n.Partition, n.Region, n.Account = parts[1], parts[3], parts[4]
		rest = parts[6:]
	case len(parts) >= 3 && parts[1] == "function":
		// account:function:name[:qualifier]
		if len(parts) > 4 || !isAccount(parts[0]) {
			return n, fmt.Errorf("function name %q: a partial ARN is ACCOUNT:function:NAME[:QUALIFIER] with a 12-digit account", s)
		}
		n.Account = parts[0]
		rest = parts[2:]
	default:
		if len(parts) > 2 {
			return n, fmt.Errorf("function name %q: want NAME, NAME:QUALIFIER or an ARN", s)
		}
		rest = parts
	}
	n.Function = rest[0]
	if len(n.Function) == 0 || len(n.Function) > 64 || !isNameChars(n.Function) {
		return Name{}, fmt.Errorf("function name %q: 1 to 64 letters, digits, hyphens or underscores", n.Function)
	}
	if len(rest) == 2 {
		n.Qualifier = rest[1]
		if n.Qualifier != "$LATEST" && (len(n.Qualifier) == 0 || len(n.Qualifier) > 128 || !isNameChars(n.Qualifier)) {
			return Name{}, fmt.Errorf("function qualifier %q: a version, an alias (letters, digits, hyphens, underscores) or $LATEST", n.Qualifier)
		}
	}
	return n, nil
}

// String prints n in the form it was given in.
func (n Name) String() string {
	s := n.Function
	switch {
	case n.Region != "":
		s = "arn:" + n.Partition + ":lambda:" + n.Region + ":" + n.Account + ":function:" + s
	case n.Account != "":
		s = n.Account + ":function:" + s
	}
	if n.Qualifier != "" {
		s += ":" + n.Qualifier
	}
	return s
}

func isNameChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func isAccount(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isPartition accepts aws and its siblings (aws-cn, aws-us-gov, …).
func isPartition(s string) bool {
	if s == "aws" {
		return true
	}
	rest, ok := strings.CutPrefix(s, "aws-")
	return ok && rest != "" && isNameChars(rest) && !strings.Contains(rest, "_")
}

// isRegion accepts the shape of region names (us-east-1, ap-southeast-2, us-gov-west-1).
func isRegion(s string) bool {
	parts := strings.Split(s, "-")
	if len(parts) < 3 {
		return false
	}
	for _, p := range parts[:len(parts)-1] {
		if p == "" || !isLower(p) {
			return false
		}
	}
	last := parts[len(parts)-1]
	if last == "" {
		return false
	}
	for i := 0; i < len(last); i++ {
		if last[i] < '0' || last[i] > '9' {
			return false
		}
	}
	return true
}

func isLower(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}
