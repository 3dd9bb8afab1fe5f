package main

import (
	"fmt"
	"regexp"
	"strings"

	"google.golang.org/protobuf/compiler/protogen"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// kind is how a field's value is held in C# and mapped to JSON; each has its ProtoJson helpers.
type kind int

const (
	kindString   kind = iota // string, "" by default
	kindBool                 // bool
	kindInt32                // int (int? when declared optional)
	kindInt64                // long, a JSON string
	kindDouble               // double
	kindBytes                // byte[], base64 (only as a oneof member)
	kindDuration             // google.protobuf.Duration: ProtoDuration?, null when unset
	kindMessage              // a message of the same file: its class, null when unset
)

// message is one C# class.
type message struct {
	name    string
	comment string
	fields  []*field // in declaration order, oneof members included
}

type field struct {
	protoName string // result_id: accepted when reading, and named by ProtoJson.Mark
	jsonName  string // resultId: written, accepted when reading, and named in error paths
	csName    string // ResultId
	number    int
	kind      kind
	msgType   string // class of a message (or list of messages) field
	repeated  bool   // a List<>
	isMap     bool   // map<string, string>: a Dictionary<string, string>
	optional  bool   // proto3 `optional`: a nullable value, written whenever it is set
	oneof     *oneof // the real oneof it belongs to, or nil
	comment   string
}

type oneof struct {
	protoName string // source
	csName    string // Source: SourceOneofCase, SourceCase
	comment   string
	fields    []*field
}

// scalarKinds are the scalar types the generated C# holds.
var scalarKinds = map[protoreflect.Kind]kind{
	protoreflect.StringKind: kindString, protoreflect.BoolKind: kindBool, protoreflect.Int32Kind: kindInt32,
	protoreflect.Int64Kind: kindInt64, protoreflect.DoubleKind: kindDouble, protoreflect.BytesKind: kindBytes,
}

// memberNames are the C# members every generated class has; a field may not take one of them.
var memberNames = map[string]bool{"WriteTo": true, "FromJson": true, "ToJson": true, "Parse": true}

// jsonNameRE matches the JSON names the generated C# string literals can hold as they are.
var jsonNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// maxFieldNumber is the largest field number ProtoJson.Mark's 64-bit set of seen fields can hold.
const maxFieldNumber = 63

// buildFile checks that every declaration of f has a C# mapping and returns its classes.
func buildFile(f *protogen.File) ([]*message, error) {
	if len(f.Enums) > 0 {
		return nil, fmt.Errorf("enum %s: enums are not supported by protoc-gen-csharp-worker", f.Enums[0].Desc.FullName())
	}
	if len(f.Extensions) > 0 {
		return nil, fmt.Errorf("extension %s: extensions are not supported by protoc-gen-csharp-worker", f.Extensions[0].Desc.FullName())
	}
	// Services are left out: the SDK speaks the protocol over stdio, without gRPC stubs.
	var msgs []*message
	for _, m := range f.Messages {
		msg, err := buildMessage(m)
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, msg)
	}
	return msgs, nil
}

func buildMessage(m *protogen.Message) (*message, error) {
	d := m.Desc
	for _, nested := range m.Messages {
		if !nested.Desc.IsMapEntry() {
			return nil, fmt.Errorf("message %s: nested messages are not supported by protoc-gen-csharp-worker", nested.Desc.FullName())
		}
	}
	if len(m.Enums) > 0 || len(m.Extensions) > 0 {
		return nil, fmt.Errorf("message %s: nested declarations are not supported by protoc-gen-csharp-worker", d.FullName())
	}
	msg := &message{name: string(d.Name()), comment: comment(m.Comments.Leading)}
	names := map[string]bool{}
	claim := func(name string, what protoreflect.FullName) error {
		if name == msg.name || memberNames[name] || names[name] {
			return fmt.Errorf("%s: its C# name %s is taken in class %s", what, name, msg.name)
		}
		names[name] = true
		return nil
	}
	oneofs := map[*protogen.Oneof]*oneof{}
	for _, fd := range m.Fields {
		fl, err := buildField(fd)
		if err != nil {
			return nil, err
		}
		if err := claim(fl.csName, fd.Desc.FullName()); err != nil {
			return nil, err
		}
		if o := fd.Oneof; o != nil && !o.Desc.IsSynthetic() {
			oo := oneofs[o]
			if oo == nil {
				oo = &oneof{protoName: string(o.Desc.Name()), csName: csName(string(o.Desc.Name())), comment: comment(o.Comments.Leading)}
				oneofs[o] = oo
				for _, n := range []string{oo.csName + "OneofCase", oo.csName + "Case"} {
					if err := claim(n, o.Desc.FullName()); err != nil {
						return nil, err
					}
				}
			}
			if fl.csName == "None" {
				return nil, fmt.Errorf("%s: its C# name None is the empty case of %sOneofCase", fd.Desc.FullName(), oo.csName)
			}
			fl.oneof = oo
			oo.fields = append(oo.fields, fl)
		}
		msg.fields = append(msg.fields, fl)
	}
	return msg, nil
}

func buildField(fd *protogen.Field) (*field, error) {
	d := fd.Desc
	fl := &field{
		protoName: string(d.Name()),
		jsonName:  d.JSONName(),
		csName:    csName(string(d.Name())),
		number:    int(d.Number()),
		comment:   comment(fd.Comments.Leading),
		repeated:  d.IsList(),
		optional:  d.HasOptionalKeyword(),
	}
	unsupported := func(what string) error {
		return fmt.Errorf("field %s: %s is not supported by protoc-gen-csharp-worker", d.FullName(), what)
	}
	if !jsonNameRE.MatchString(fl.jsonName) {
		return nil, unsupported(fmt.Sprintf("JSON name %q (only letters, digits and underscores)", fl.jsonName))
	}
	if fl.number > maxFieldNumber {
		return nil, unsupported(fmt.Sprintf("field number %d (ProtoJson.Mark holds numbers up to %d)", fl.number, maxFieldNumber))
	}
	if d.IsMap() {
		if d.MapKey().Kind() != protoreflect.StringKind || d.MapValue().Kind() != protoreflect.StringKind {
			return nil, unsupported(fmt.Sprintf("map<%s, %s> (only map<string, string>)", typeName(d.MapKey()), typeName(d.MapValue())))
		}
		fl.isMap, fl.kind = true, kindString
		return fl, nil
	}
	k, isScalar := scalarKinds[d.Kind()]
	switch {
	case isScalar:
		fl.kind = k
	case d.Kind() == protoreflect.MessageKind:
		md := d.Message()
		switch {
		case md.FullName() == "google.protobuf.Duration":
			fl.kind = kindDuration
		case md.ParentFile().Path() == d.ParentFile().Path() && md.Parent() == md.ParentFile():
			fl.kind, fl.msgType = kindMessage, string(md.Name())
		default:
			return nil, unsupported("message type " + string(md.FullName()) + " (only google.protobuf.Duration and top-level messages of the same file)")
		}
	default:
		return nil, unsupported("kind " + typeName(d))
	}
	inOneof := d.ContainingOneof() != nil && !d.ContainingOneof().IsSynthetic()
	switch {
	case fl.repeated && fl.kind != kindString && fl.kind != kindMessage:
		return nil, unsupported("repeated " + typeName(d) + " (only repeated string and repeated messages)")
	case fl.optional && fl.kind != kindInt32:
		return nil, unsupported("optional " + typeName(d) + " (only optional int32)")
	case inOneof && fl.kind != kindString && fl.kind != kindBytes && fl.kind != kindMessage:
		return nil, unsupported(typeName(d) + " in a oneof (only string, bytes and messages)")
	case !inOneof && fl.kind == kindBytes:
		return nil, unsupported("bytes outside a oneof")
	}
	return fl, nil
}

// typeName is how the .proto spells a field's type.
func typeName(d protoreflect.FieldDescriptor) string {
	switch d.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return string(d.Message().FullName())
	case protoreflect.EnumKind:
		return string(d.Enum().FullName())
	}
	return d.Kind().String()
}

// csName is the C# name of a field, oneof or file: snake_case becomes PascalCase (result_id: ResultId).
func csName(protoName string) string {
	var b strings.Builder
	for _, part := range strings.Split(protoName, "_") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

// comment is the text of a .proto comment, one line per line, without the space after "//".
func comment(c protogen.Comments) string {
	lines := strings.Split(strings.TrimRight(string(c), "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimPrefix(l, " ")
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}
