package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// restJSON is the REST codec: grpc-gateway's JSONPb, with request bodies that fail to decode explained
// in words (which field, what was expected, what came) instead of protojson's terse message.
type restJSON struct{ *runtime.JSONPb }

// Unmarshal decodes data into v, explaining a failure.
func (j restJSON) Unmarshal(data []byte, v any) error {
	if err := j.JSONPb.Unmarshal(data, v); err != nil {
		return explainJSON(data, v, err)
	}
	return nil
}

// NewDecoder returns a decoder that explains failures.
func (j restJSON) NewDecoder(r io.Reader) runtime.Decoder {
	d := json.NewDecoder(r)
	return runtime.DecoderFunc(func(v any) error {
		m, ok := v.(proto.Message)
		if !ok {
			return j.JSONPb.NewDecoder(io.MultiReader(d.Buffered(), r)).Decode(v)
		}
		var raw json.RawMessage
		if err := d.Decode(&raw); err != nil {
			if errors.Is(err, io.EOF) {
				return err // no body: grpc-gateway treats it as an empty message
			}
			return fmt.Errorf("the request body is not valid JSON: %s", jsonSyntaxError(err))
		}
		if err := j.UnmarshalOptions.Unmarshal(raw, m); err != nil {
			return explainJSON(raw, v, err)
		}
		return nil
	})
}

// jsonSyntaxError words an encoding/json error with its byte offset.
func jsonSyntaxError(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s (at byte %d)", se.Error(), se.Offset)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "it ends too early (unclosed object, array or string)"
	}
	return err.Error()
}

// explainJSON turns a decode failure of data into v into a message that names the field at fault and
// what it expects. Falls back to the decoder's own message, cleaned of protojson's non-breaking space.
func explainJSON(data []byte, v any, err error) error {
	m, ok := v.(proto.Message)
	if !ok {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc any
	if jerr := dec.Decode(&doc); jerr != nil {
		return fmt.Errorf("the request body is not valid JSON: %s", jsonSyntaxError(jerr))
	}
	md := m.ProtoReflect().Descriptor()
	if why := checkMessage(doc, md, ""); why != "" {
		return fmt.Errorf("invalid request body: %s", why)
	}
	msg := strings.ReplaceAll(err.Error(), "\u00a0", " ")
	msg = strings.TrimPrefix(msg, "proto: ")
	return fmt.Errorf("invalid request body for %s: %s", md.FullName(), msg)
}

// jsonKind names the kind of a decoded JSON value.
func jsonKind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "true/false"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// checkMessage returns what is wrong with v as the JSON form of a message md at path, or "".
func checkMessage(v any, md protoreflect.MessageDescriptor, path string) string {
	obj, ok := v.(map[string]any)
	if !ok {
		where := "the request body"
		if path != "" {
			where = fmt.Sprintf("field %q", path)
		}
		return fmt.Sprintf("%s must be an object (%s), got %s", where, md.FullName(), jsonKind(v))
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fd := md.Fields().ByJSONName(k)
		if fd == nil {
			fd = md.Fields().ByTextName(k)
		}
		if fd == nil {
			var names []string
			for i := 0; i < md.Fields().Len(); i++ {
				names = append(names, md.Fields().Get(i).JSONName())
			}
			return fmt.Sprintf("unknown field %q in %s; its fields are %s", join(path, k), md.FullName(), strings.Join(names, ", "))
		}
		if why := checkField(obj[k], fd, join(path, k)); why != "" {
			return why
		}
	}
	return ""
}

func checkField(v any, fd protoreflect.FieldDescriptor, path string) string {
	if v == nil {
		return "" // null: the field's default
	}
	switch {
	case fd.IsMap():
		obj, ok := v.(map[string]any)
		if !ok {
			return fmt.Sprintf("field %q must be an object (a map), got %s", path, jsonKind(v))
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if why := checkValue(obj[k], fd.MapValue(), fmt.Sprintf("%s[%q]", path, k)); why != "" {
				return why
			}
		}
		return ""
	case fd.IsList():
		arr, ok := v.([]any)
		if !ok {
			return fmt.Sprintf("field %q must be an array of %s, got %s", path, expected(fd), jsonKind(v))
		}
		for i, e := range arr {
			if why := checkValue(e, fd, fmt.Sprintf("%s[%d]", path, i)); why != "" {
				return why
			}
		}
		return ""
	}
	return checkValue(v, fd, path)
}

// checkValue checks one (non-repeated) value of field fd's type.
func checkValue(v any, fd protoreflect.FieldDescriptor, path string) string {
	want := expected(fd)
	bad := func() string { return fmt.Sprintf("field %q must be %s, got %s", path, want, jsonKind(v)) }
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		md := fd.Message()
		switch md.FullName() {
		case "google.protobuf.Value":
			return ""
		case "google.protobuf.Timestamp", "google.protobuf.Duration", "google.protobuf.FieldMask":
			if _, ok := v.(string); !ok {
				return bad()
			}
			return ""
		case "google.protobuf.Struct":
			if _, ok := v.(map[string]any); !ok {
				return bad()
			}
			return ""
		case "google.protobuf.ListValue":
			if _, ok := v.([]any); !ok {
				return bad()
			}
			return ""
		}
		if strings.HasPrefix(string(md.FullName()), "google.protobuf.") && strings.HasSuffix(string(md.Name()), "Value") {
			return checkValue(v, md.Fields().ByName("value"), path) // wrappers
		}
		if v == nil {
			return ""
		}
		return checkMessage(v, md, path)
	case protoreflect.BoolKind:
		if _, ok := v.(bool); !ok {
			return bad()
		}
	case protoreflect.StringKind, protoreflect.BytesKind:
		if _, ok := v.(string); !ok {
			return bad()
		}
	case protoreflect.EnumKind:
		switch x := v.(type) {
		case string:
			if fd.Enum().Values().ByName(protoreflect.Name(x)) == nil {
				return fmt.Sprintf("field %q must be %s, got %q", path, want, x)
			}
		case json.Number:
		default:
			return bad()
		}
	default: // numbers: a JSON number or a string holding one
		switch v.(type) {
		case json.Number, string:
		default:
			return bad()
		}
	}
	return ""
}

// expected words what a field's JSON value must be.
func expected(fd protoreflect.FieldDescriptor) string {
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		switch fd.Message().FullName() {
		case "google.protobuf.Timestamp":
			return "an RFC 3339 timestamp string (e.g. \"2030-01-01T00:00:00Z\")"
		case "google.protobuf.Duration":
			return "a duration string in seconds (e.g. \"1.5s\")"
		case "google.protobuf.Struct":
			return "an object"
		case "google.protobuf.ListValue":
			return "an array"
		}
		return fmt.Sprintf("an object (%s)", fd.Message().FullName())
	case protoreflect.BoolKind:
		return "true or false"
	case protoreflect.StringKind:
		return "a string"
	case protoreflect.BytesKind:
		return "a base64 string (bytes)"
	case protoreflect.EnumKind:
		vals := fd.Enum().Values()
		var names []string
		for i := 0; i < vals.Len() && i < 8; i++ {
			names = append(names, string(vals.Get(i).Name()))
		}
		if vals.Len() > 8 {
			names = append(names, "...")
		}
		return "one of " + strings.Join(names, ", ")
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		return "a number"
	default:
		return fmt.Sprintf("a whole number (%s)", fd.Kind())
	}
}
