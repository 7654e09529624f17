// Package functions calls functions that already run on the developer's machine, in the
// places where AWS would call a Lambda function (a Firehose transformation, an API Gateway
// proxy integration or authorizer). localpipe is not a Lambda emulator: each function declared
// in the config's `functions:` names where it runs.
//
// # Runners
//
//   - url: the event is POSTed as the body and the answer's body is the result; an answer
//     that is not 2xx is a function error.
//   - command: argv is run once per invocation with the event on stdin and the result read
//     from stdout; stderr goes to the log; a non-zero exit is a function error; the process
//     is killed at the timeout.
//   - endpoint: a Lambda-compatible Invoke API (sam local start-lambda, another emulator)
//     called with the AWS SDK's Lambda client; a FunctionError in the answer is a function
//     error.
//
// # Names
//
// A declared name is a full ARN, a partial ARN or a bare function name, each with an optional
// qualifier. A request matches, in order: the declaration with the same ARN (or partial ARN)
// and qualifier; the bare name with the same qualifier; the same ARN without a qualifier;
// the bare name without a qualifier. A declaration without a qualifier stands for every
// qualifier of its function, and a bare name for every ARN with that function name.
//
// # Caveats
//
// This package is a client, not an engine: it speaks HTTP, runs processes and uses the AWS
// SDK. Engines reach it through interfaces they define, which internal/app implements.
package functions
