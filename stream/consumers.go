package stream

import (
	"errors"
	"maps"
	"slices"
	"time"
)

// Enhanced fan-out consumers are registered per stream and kept in the stream's metadata,
// so they survive restarts and go with the stream when it is deleted. Reading for a consumer
// (SubscribeToShard) needs no state of its own: a subscription is a push read of the shard.

// MaxConsumers is AWS's limit of registered consumers per stream.
const MaxConsumers = 20

// Errors of consumer registration.
var (
	ErrConsumerExists   = errors.New("consumer already registered")
	ErrConsumerLimit    = errors.New("too many consumers")
	ErrConsumerNotFound = errors.New("consumer not found")
)

type consumerMeta struct {
	Name     string            `json:"name"`
	Created  int64             `json:"created"` // unix nanoseconds
	ActiveAt int64             `json:"activeAt"`
	Tags     map[string]string `json:"tags,omitempty"`
	Policy   string            `json:"policy,omitempty"`
}

// ConsumerInfo describes a registered consumer.
type ConsumerInfo struct {
	Name    string
	Created time.Time // second precision, as its ARN carries it
	Status  string    // StatusCreating or StatusActive
	Tags    map[string]string
	Policy  string
}

func (e *Engine) consumerInfo(c consumerMeta) ConsumerInfo {
	status := StatusActive
	if e.opts.Now().UnixNano() < c.ActiveAt {
		status = StatusCreating
	}
	tags := maps.Clone(c.Tags)
	if tags == nil {
		tags = map[string]string{}
	}
	return ConsumerInfo{Name: c.Name, Created: time.Unix(0, c.Created), Status: status, Tags: tags, Policy: c.Policy}
}

// updateConsumer lets fn edit one consumer of a stream.
func (e *Engine) updateConsumer(stream, name string, fn func(c *consumerMeta) error) error {
	return e.update(stream, func(m *streamMeta) error {
		i := slices.IndexFunc(m.Consumers, func(c consumerMeta) bool { return c.Name == name })
		if i < 0 {
			return ErrConsumerNotFound
		}
		m.Consumers = slices.Clone(m.Consumers)
		c := m.Consumers[i]
		c.Tags = maps.Clone(c.Tags)
		if c.Tags == nil {
			c.Tags = map[string]string{}
		}
		if err := fn(&c); err != nil {
			return err
		}
		m.Consumers[i] = c
		return nil
	})
}

// UpdateConsumerTags lets fn edit a consumer's tags in place; fn's error aborts the change.
func (e *Engine) UpdateConsumerTags(stream, name string, fn func(tags map[string]string) error) error {
	return e.updateConsumer(stream, name, func(c *consumerMeta) error { return fn(c.Tags) })
}

// SetPolicy sets the resource policy of a stream (consumer "") or of one of its consumers;
// "" removes it.
func (e *Engine) SetPolicy(stream, consumer, policy string) error {
	if consumer != "" {
		return e.updateConsumer(stream, consumer, func(c *consumerMeta) error { c.Policy = policy; return nil })
	}
	return e.update(stream, func(m *streamMeta) error { m.Policy = policy; return nil })
}

// SetEncryption records a stream's server-side encryption (EncryptionType KMS and a key, or
// NONE). localpipe keeps its logs as they are; describing the stream reports the setting.
func (e *Engine) SetEncryption(stream, typ, keyID string) error {
	return e.update(stream, func(m *streamMeta) error {
		if s := e.status(m); s != StatusActive {
			return &NotActiveError{Name: stream, Status: s}
		}
		m.EncryptionType, m.KeyID = typ, keyID
		return nil
	})
}

// RegisterConsumer registers a consumer of an ACTIVE stream. Like a new stream it stays
// CREATING for Options.CreateDelay.
func (e *Engine) RegisterConsumer(stream, name string) (ConsumerInfo, error) {
	var out consumerMeta
	err := e.update(stream, func(m *streamMeta) error {
		if s := e.status(m); s != StatusActive {
			return &NotActiveError{Name: stream, Status: s}
		}
		for _, c := range m.Consumers {
			if c.Name == name {
				return ErrConsumerExists
			}
		}
		if len(m.Consumers) >= MaxConsumers {
			return ErrConsumerLimit
		}
		// An ARN names its consumer's creation to the second; keep no more, so the ARN and
		// the timestamp a describe call answers agree.
		now := e.opts.Now().Truncate(time.Second)
		out = consumerMeta{Name: name, Created: now.UnixNano(), ActiveAt: now.Add(e.opts.CreateDelay).UnixNano()}
		m.Consumers = append(slices.Clone(m.Consumers), out)
		return nil
	})
	if err != nil {
		return ConsumerInfo{}, err
	}
	return e.consumerInfo(out), nil
}

// DeregisterConsumer removes a consumer; its subscriptions end at their next read.
func (e *Engine) DeregisterConsumer(stream, name string) error {
	return e.update(stream, func(m *streamMeta) error {
		i := slices.IndexFunc(m.Consumers, func(c consumerMeta) bool { return c.Name == name })
		if i < 0 {
			return ErrConsumerNotFound
		}
		m.Consumers = slices.Delete(slices.Clone(m.Consumers), i, i+1)
		return nil
	})
}

// Consumers lists a stream's consumers in registration order.
func (e *Engine) Consumers(stream string) ([]ConsumerInfo, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	st, ok := e.streams[stream]
	if !ok {
		return nil, ErrStreamNotFound
	}
	out := make([]ConsumerInfo, 0, len(st.meta.Consumers))
	for _, c := range st.meta.Consumers {
		out = append(out, e.consumerInfo(c))
	}
	return out, nil
}

// Consumer describes one consumer of a stream.
func (e *Engine) Consumer(stream, name string) (ConsumerInfo, error) {
	cs, err := e.Consumers(stream)
	if err != nil {
		return ConsumerInfo{}, err
	}
	for _, c := range cs {
		if c.Name == name {
			return c, nil
		}
	}
	return ConsumerInfo{}, ErrConsumerNotFound
}
