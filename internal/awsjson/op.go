package awsjson

// Op makes an Operation from its typed parts, so every action of a service starts the same
// way AWS's front end does: the body decodes into In (a SerializationException if it does
// not), check reports In's model-constraint failures (all of them, as one
// ValidationException, before anything is looked up), and only then does run see the
// request. check may be nil for an input the model does not constrain.
func Op[C, In any](check func(*In) *Error, run func(c C, in *In) ([]byte, *Error)) Operation[C] {
	return func(c C, body []byte) ([]byte, *Error) {
		in, err := DecodeChecked(body, check)
		if err != nil {
			return nil, err
		}
		return run(c, in)
	}
}

// DecodeChecked is Op's prologue on its own, for the few operations that are not written as
// an Op (one shared by two actions, or one that hands its input to a helper).
func DecodeChecked[In any](body []byte, check func(*In) *Error) (*In, *Error) {
	in := new(In)
	if err := Decode(body, in); err != nil {
		return nil, err
	}
	if check != nil {
		if err := check(in); err != nil {
			return nil, err
		}
	}
	return in, nil
}
