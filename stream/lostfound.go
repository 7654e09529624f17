package stream

import (
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// deletingSuffix marks a stream directory whose deletion was decided (DeleteStream renamed it)
// but may not have finished. Only such directories are ever removed without metadata.
const deletingSuffix = ".deleting"

// lostFoundDir is where Open moves directories no stream owns: Options.LostFound, or
// <parent of Dir>/lost+found/<base of Dir>, so the relative path inside the data dir is kept.
func (e *Engine) lostFoundDir() string {
	if e.opts.LostFound != "" {
		return e.opts.LostFound
	}
	return filepath.Join(filepath.Dir(e.opts.Dir), "lost+found", filepath.Base(e.opts.Dir))
}

// setAsideUnowned handles every entry of Options.Dir that no stream in the metadata owns: a
// deletion the last process decided finishes; a directory holding no bytes at all (a
// CreateStream that died before its metadata committed) is removed; anything else moves to
// the lost+found directory and is logged at warn, for `localpipe repair` or a human to judge.
func (e *Engine) setAsideUnowned(owned map[string]bool) error {
	entries, err := os.ReadDir(e.opts.Dir)
	if err != nil {
		return err
	}
	changed := false
	for _, de := range entries {
		name := de.Name()
		path := filepath.Join(e.opts.Dir, name)
		changed = changed || !owned[name]
		switch {
		case owned[name]:
		case strings.HasSuffix(name, deletingSuffix):
			e.logger.Info("stream: finishing an interrupted stream deletion", "dir", name)
			os.RemoveAll(path)
		case holdsNoBytes(path):
			e.logger.Info("stream: removing an empty directory no stream owns", "dir", name)
			os.RemoveAll(path)
		default:
			dst, err := moveAside(path, e.lostFoundDir())
			if err != nil {
				return err
			}
			e.logger.Warn("stream: moved a directory no stream owns to lost+found; `localpipe repair` can rebuild streams from such logs",
				"dir", name, "to", dst)
		}
	}
	// A start that found every directory owned has nothing to make durable.
	if changed {
		syncDir(e.opts.Dir)
	}
	return nil
}

// holdsNoBytes reports whether path is a tree of directories and empty files only.
func holdsNoBytes(path string) bool {
	empty := true
	filepath.WalkDir(path, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			empty = false
			return filepath.SkipAll
		}
		if !d.IsDir() {
			if info, err := d.Info(); err != nil || info.Size() > 0 {
				empty = false
				return filepath.SkipAll
			}
		}
		return nil
	})
	return empty
}

// moveAside renames path into dir under its own name, or under name-<unix ns> should that
// be taken by an earlier move, and returns where it went.
func moveAside(path, dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	dst := filepath.Join(dir, filepath.Base(path))
	if _, err := os.Lstat(dst); err == nil {
		dst += "-" + strconv.FormatInt(time.Now().UnixNano(), 10)
	}
	if err := os.Rename(path, dst); err != nil {
		return "", err
	}
	syncDir(dir)
	return dst, nil
}
