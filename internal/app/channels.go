package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/localpipe/localpipe/firehose"
	"github.com/localpipe/localpipe/stream/kinesisapi"
)

// channelStore is the Kinesis handler's ChannelStore: channels are kept in the metadata
// file, and a channel to a general purpose bucket delivers through a delivery stream of the
// Firehose engine that the Firehose API does not show, created when the channel turns ACTIVE
// and reading from that moment on (channels do not backfill). So a channel delivers
// effectively once across a crash, as Firehose does, and the admin flush and a clean stop
// deliver what it buffered.
type channelStore struct {
	a *App

	mu     sync.Mutex
	m      map[string]kinesisapi.Channel
	timers map[string]*time.Timer
	closed bool
}

var channelsBucket = []byte("kinesis-channels") // name → kinesisapi.Channel JSON

// channelDelivery is the delivery stream a channel delivers through. Firehose's names allow
// no ':', so it cannot collide with one a user creates.
func channelDelivery(name string) string { return "channel:" + name }

func newChannelStore(a *App) *channelStore {
	return &channelStore{a: a, m: map[string]kinesisapi.Channel{}, timers: map[string]*time.Timer{}}
}

// open loads the channels once the Firehose engine is open: a channel that turned ACTIVE gets
// its delivery if it has none yet (it stays as it was otherwise, with its checkpoints), one
// still CREATING is scheduled, and one deleted is finished.
func (s *channelStore) open() error {
	var chs []kinesisapi.Channel
	// Read-only: the bucket is made by the first channel put. An update would commit, with
	// two syncs, at every start.
	err := s.a.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(channelsBucket)
		if b == nil {
			return nil
		}
		return b.ForEach(func(_, v []byte) error {
			var ch kinesisapi.Channel
			if err := json.Unmarshal(v, &ch); err != nil {
				return err
			}
			chs = append(chs, ch)
			return nil
		})
	})
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ch := range chs {
		s.m[ch.Name] = ch
		if !ch.DeletingUntil.IsZero() {
			s.stopLocked(ch.Name)
			continue
		}
		s.scheduleLocked(ch)
	}
	return nil
}

func (s *channelStore) now() time.Time { return time.Now() }

func (s *channelStore) save(ch kinesisapi.Channel) error {
	v, err := json.Marshal(ch)
	if err != nil {
		return err
	}
	return s.a.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(channelsBucket)
		if err != nil {
			return err
		}
		return b.Put([]byte(ch.Name), v)
	})
}

func (s *channelStore) forget(name string) error {
	return s.a.db.Update(func(tx *bolt.Tx) error {
		if b := tx.Bucket(channelsBucket); b != nil {
			return b.Delete([]byte(name))
		}
		return nil
	})
}

// scheduleLocked starts a channel's delivery now if it is ACTIVE, or at ActiveAt.
func (s *channelStore) scheduleLocked(ch kinesisapi.Channel) {
	if ch.S3 == nil || s.closed {
		return // a channel to S3 Tables delivers nothing: it goes FAILED (see kinesisapi)
	}
	if wait := ch.ActiveAt.Sub(s.now()); wait > 0 {
		s.timers[ch.Name] = time.AfterFunc(wait, func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if cur, ok := s.m[ch.Name]; ok && cur.ID == ch.ID && cur.DeletingUntil.IsZero() {
				s.activateLocked(cur)
			}
		})
		return
	}
	s.activateLocked(ch)
}

func (s *channelStore) activateLocked(ch kinesisapi.Channel) {
	delete(s.timers, ch.Name)
	if s.closed {
		return
	}
	if in, err := s.a.fh.Describe(channelDelivery(ch.Name)); err == nil && in.Channel != nil && in.Channel.ID == ch.ID {
		return // delivering since before a restart
	}
	if _, err := s.a.fh.Create(deliveryConfig(ch), nil); err != nil {
		s.a.logger.Error("kinesis: a channel could not start delivering", "channel", ch.Name, "err", err)
	}
}

// deliveryConfig is the delivery stream that runs a channel to a general purpose bucket.
func deliveryConfig(ch kinesisapi.Channel) firehose.Config {
	sc := ch.S3.StorageConfiguration
	compression := firehose.Uncompressed
	switch *sc.CompressionType {
	case "GZIP":
		compression = firehose.GZIP
	case "ZSTD":
		compression = firehose.ZSTD
	}
	c := &firehose.Channel{Name: ch.Name, ID: ch.ID, RecordFormat: *ch.Record.RecordFormatType}
	if sc.OutputKeyTemplate != nil {
		c.KeyTemplate = *sc.OutputKeyTemplate
	}
	if d := ch.S3.DeadLetterQueueS3Configuration; d != nil {
		c.ErrorBucket = kinesisapi.Bucket(*d.BucketARN)
		if d.ErrorOutputPrefix != nil {
			c.ErrorPrefix = *d.ErrorOutputPrefix
		}
	}
	return firehose.Config{
		Name: channelDelivery(ch.Name), Type: firehose.KinesisStreamAsSource, KinesisStream: ch.Stream,
		Bucket: kinesisapi.Bucket(*sc.BucketARN), SizeBytes: channelBufferBytes, Interval: ch.Freshness(),
		Compression: compression, Channel: c, StartAtTip: true,
	}
}

// channelBufferBytes cuts a channel's object early when this much is buffered; AWS documents
// only the freshness, so the bound is Firehose's largest buffer.
const channelBufferBytes = 128 << 20

// stopLocked stops a channel's delivery and its pending start. Records it buffered are not
// delivered: deleting a channel stops delivery, as on AWS.
func (s *channelStore) stopLocked(name string) {
	if t := s.timers[name]; t != nil {
		t.Stop()
		delete(s.timers, name)
	}
	if err := s.a.fh.Delete(channelDelivery(name)); err != nil && !errors.Is(err, firehose.ErrNotFound) {
		s.a.logger.Warn("kinesis: stopping a channel's delivery", "channel", name, "err", err)
	}
}

func (s *channelStore) Create(ch kinesisapi.Channel) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.getLocked(ch.Name); err == nil {
		return kinesisapi.ErrChannelExists
	}
	if err := s.save(ch); err != nil {
		return err
	}
	s.m[ch.Name] = ch
	s.scheduleLocked(ch)
	return nil
}

// getLocked returns a channel, forgetting one whose deletion is over.
func (s *channelStore) getLocked(name string) (kinesisapi.Channel, error) {
	ch, ok := s.m[name]
	if !ok {
		return kinesisapi.Channel{}, kinesisapi.ErrChannelNotFound
	}
	if !ch.DeletingUntil.IsZero() && !s.now().Before(ch.DeletingUntil) {
		if err := s.forget(name); err != nil {
			s.a.logger.Warn("kinesis: forgetting a deleted channel", "channel", name, "err", err)
		}
		delete(s.m, name)
		return kinesisapi.Channel{}, kinesisapi.ErrChannelNotFound
	}
	return ch, nil
}

func (s *channelStore) Get(name string) (kinesisapi.Channel, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.getLocked(name)
}

func (s *channelStore) List() []kinesisapi.Channel {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.m))
	for n := range s.m {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]kinesisapi.Channel, 0, len(names))
	for _, n := range names {
		if ch, err := s.getLocked(n); err == nil {
			out = append(out, ch)
		}
	}
	return out
}

func (s *channelStore) Update(name string, fn func(*kinesisapi.Channel) error) (kinesisapi.Channel, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, err := s.getLocked(name)
	if err != nil {
		return kinesisapi.Channel{}, err
	}
	if err := fn(&ch); err != nil {
		return kinesisapi.Channel{}, err
	}
	if err := s.save(ch); err != nil {
		return kinesisapi.Channel{}, err
	}
	s.m[name] = ch
	_, err = s.a.fh.Update(channelDelivery(name), false, func(in *firehose.Info) error {
		in.Interval = ch.Freshness()
		return nil
	})
	if err != nil && !errors.Is(err, firehose.ErrNotFound) {
		return ch, fmt.Errorf("channel %s: %w", name, err)
	}
	return ch, nil
}

func (s *channelStore) Delete(name string, until time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, err := s.getLocked(name)
	if err != nil {
		return err
	}
	s.stopLocked(name)
	ch.DeletingUntil = until
	if !s.now().Before(until) {
		delete(s.m, name)
		return s.forget(name)
	}
	s.m[name] = ch
	return s.save(ch)
}

func (s *channelStore) CheckKeyTemplate(t string) error {
	_, err := firehose.ParseKeyTemplate(t)
	return err
}

// reset forgets every channel and stops its delivery, for a reset of the app.
func (s *channelStore) reset() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for name := range s.m {
		s.stopLocked(name)
		delete(s.m, name)
	}
	return s.a.db.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(channelsBucket) == nil {
			return nil
		}
		if err := tx.DeleteBucket(channelsBucket); err != nil {
			return err
		}
		_, err := tx.CreateBucket(channelsBucket)
		return err
	})
}

// close stops pending starts before the Firehose engine closes.
func (s *channelStore) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for name, t := range s.timers {
		t.Stop()
		delete(s.timers, name)
	}
}
