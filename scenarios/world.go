package scenarios

import (
	"fmt"
	"reflect"
	"time"

	"github.com/azsim/azsim/world"
)

// BuildWorld returns the scenario's world, validated.
func (sc *Scenario) BuildWorld() (*world.World, error) {
	var w *world.World
	switch sc.World.Extends {
	case "", "default":
		w = world.Default()
	case "none":
		w = &world.World{APIVersion: world.APIVersion, Kind: world.KindWorld}
	default:
		return nil, fmt.Errorf("extends: %q must be default or none", sc.World.Extends)
	}
	merge(w, sc.World.Replace, false)
	merge(w, sc.World.Add, true)
	if _, err := world.Compile(w, time.Now()); err != nil {
		return nil, err
	}
	return w, nil
}

// merge copies every non-empty list of src into dst, appending or replacing.
func merge(dst, src *world.World, appendLists bool) {
	if src == nil {
		return
	}
	dv, sv := reflect.ValueOf(dst).Elem(), reflect.ValueOf(src).Elem()
	for i := 0; i < sv.NumField(); i++ {
		f := sv.Field(i)
		if f.Kind() != reflect.Slice || f.Len() == 0 {
			continue
		}
		if appendLists {
			dv.Field(i).Set(reflect.AppendSlice(dv.Field(i), f))
		} else {
			dv.Field(i).Set(f)
		}
	}
}
