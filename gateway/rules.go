package gateway

import "github.com/localpipe/localpipe/internal/lazyre"

// API Gateway's rules for the names and ids clients choose. The control plane and the
// --config file (internal/app) both check them, each wording its messages for its reader:
// the control plane with API Gateway's, the config with what to change in the file.
var (
	// A rest API id as API Gateway makes them; it is also the first label of the
	// {id}.execute-api.* host name, so it must be a DNS label anyway.
	restAPIIDRe = lazyre.New(`^[a-z0-9]{10}$`)
	// CreateStage: "Stage names can only contain alphanumeric characters, hyphens, and
	// underscores. Maximum length is 128 characters."
	stageNameRe = lazyre.New(`^[A-Za-z0-9_-]{1,128}$`)
	// CreateStage: "Variable names can have alphanumeric and underscore characters, and the
	// values must match [A-Za-z0-9-._~:/?#&=,]+." Values are at most 512 characters.
	stageVarKeyRe   = lazyre.New(`^[A-Za-z0-9_]{1,64}$`)
	stageVarValueRe = lazyre.New(`^[A-Za-z0-9\-._~:/?#&=,]{1,512}$`)
)

// MaxStageVariables is how many variables a stage may have.
const MaxStageVariables = 100

// IsRestAPIID reports whether id has the shape of the ids API Gateway gives REST APIs:
// 10 lower-case letters and digits.
func IsRestAPIID(id string) bool { return restAPIIDRe.MatchString(id) }

// ValidStageName reports whether name may name a stage.
func ValidStageName(name string) bool { return stageNameRe.MatchString(name) }

// ValidStageVariable reports whether the name and the value of a stage variable are
// acceptable.
func ValidStageVariable(name, value string) (nameOK, valueOK bool) {
	return stageVarKeyRe.MatchString(name), stageVarValueRe.MatchString(value)
}
