package sim

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
	"sigs.k8s.io/yaml"

	"github.com/azsim/azsim/world"
)

// collection finds the slice field of a World by its JSON name
// (identities, roleAssignments, ...).
func collection(w *world.World, name string) (reflect.Value, bool) {
	v := reflect.ValueOf(w).Elem()
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		tag, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if tag == name && t.Field(i).Type.Kind() == reflect.Slice {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

// getObjects serves GET /api/{collection}: the compiled objects.
func (s *Sim) getObjects(w http.ResponseWriter, r *http.Request) {
	wd, err := s.worldFor(r)
	if err != nil {
		adminError(w, http.StatusInternalServerError, err)
		return
	}
	list, ok := collection(wd, chi.URLParam(r, "collection"))
	if !ok {
		adminError(w, http.StatusNotFound, fmt.Errorf("no collection %q in the world", chi.URLParam(r, "collection")))
		return
	}
	adminJSON(w, http.StatusOK, list.Interface())
}

// postObject serves POST /api/{collection}: append one object (JSON or YAML
// as in a world file); the world is validated as a whole.
func (s *Sim) postObject(w http.ResponseWriter, r *http.Request) {
	name := chi.URLParam(r, "collection")
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err == nil && isYAML(r.Header.Get("Content-Type")) {
		body, err = yaml.YAMLToJSON(body)
	}
	if err != nil {
		adminError(w, http.StatusBadRequest, fmt.Errorf("%s: %w", name, err))
		return
	}
	_, err = s.store.Update(func(wd *world.World) error {
		list, ok := collection(wd, name)
		if !ok {
			return fmt.Errorf("no collection %q in the world", name)
		}
		obj := reflect.New(list.Type().Elem())
		dec := json.NewDecoder(strings.NewReader(string(body)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(obj.Interface()); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		list.Set(reflect.Append(list, obj.Elem()))
		return nil
	})
	if err != nil {
		worldError(w, err)
		return
	}
	s.getObjects(w, r)
}

// deleteObject serves DELETE /api/{collection}/{key}: by name, or by index
// for collections without names (roleAssignments).
func (s *Sim) deleteObject(w http.ResponseWriter, r *http.Request) {
	name, key := chi.URLParam(r, "collection"), chi.URLParam(r, "key")
	_, err := s.store.Update(func(wd *world.World) error {
		list, ok := collection(wd, name)
		if !ok {
			return fmt.Errorf("no collection %q in the world", name)
		}
		for i := 0; i < list.Len(); i++ {
			if matchesKey(list.Index(i), i, key) {
				list.Set(reflect.AppendSlice(list.Slice(0, i), list.Slice(i+1, list.Len())))
				return nil
			}
		}
		return fmt.Errorf("%s: no object %q", name, key)
	})
	if err != nil {
		worldError(w, err)
		return
	}
	s.getObjects(w, r)
}

func matchesKey(v reflect.Value, i int, key string) bool {
	if f := v.FieldByName("Name"); f.IsValid() && f.Kind() == reflect.String {
		return strings.EqualFold(f.String(), key)
	}
	return strconv.Itoa(i) == key
}
