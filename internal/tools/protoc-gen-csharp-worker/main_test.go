package main

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/compiler/protogen"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/pluginpb"
)

type fdp = descriptorpb.FieldDescriptorProto

// Shorthands for the field descriptors the tests declare.
var (
	optional = descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum()
	repeated = descriptorpb.FieldDescriptorProto_LABEL_REPEATED.Enum()
)

func scalar(name string, number int32, t descriptorpb.FieldDescriptorProto_Type) *fdp {
	return &fdp{Name: proto.String(name), Number: proto.Int32(number), Label: optional, Type: t.Enum()}
}

func messageField(name string, number int32, typeName string) *fdp {
	return &fdp{Name: proto.String(name), Number: proto.Int32(number), Label: optional,
		Type: descriptorpb.FieldDescriptorProto_TYPE_MESSAGE.Enum(), TypeName: proto.String(typeName)}
}

func list(f *fdp) *fdp {
	f.Label = repeated
	return f
}

func inOneof(f *fdp, index int32) *fdp {
	f.OneofIndex = proto.Int32(index)
	return f
}

// run generates C# from test/v1/test.proto (package test.v1, which may use Duration and Timestamp).
func run(t *testing.T, file *descriptorpb.FileDescriptorProto) (string, error) {
	t.Helper()
	file.Name = proto.String("test/v1/test.proto")
	file.Package = proto.String("test.v1")
	file.Syntax = proto.String("proto3")
	file.Dependency = []string{"google/protobuf/duration.proto", "google/protobuf/timestamp.proto"}
	file.Options = &descriptorpb.FileOptions{GoPackage: proto.String("example.com/test/v1;testv1")}
	req := &pluginpb.CodeGeneratorRequest{
		FileToGenerate: []string{file.GetName()},
		ProtoFile: []*descriptorpb.FileDescriptorProto{
			protodesc.ToFileDescriptorProto(durationpb.File_google_protobuf_duration_proto),
			protodesc.ToFileDescriptorProto(timestamppb.File_google_protobuf_timestamp_proto),
			file,
		},
	}
	p, err := protogen.Options{}.New(req)
	if err != nil {
		t.Fatalf("protogen: %v", err)
	}
	if err := generate(p, "Test.Protocol"); err != nil {
		return "", err
	}
	resp := p.Response()
	if resp.Error != nil {
		t.Fatalf("response error: %s", resp.GetError())
	}
	if len(resp.File) != 1 || resp.File[0].GetName() != "Test.g.cs" {
		t.Fatalf("want one file Test.g.cs, got %d files", len(resp.File))
	}
	return resp.File[0].GetContent(), nil
}

func TestCSName(t *testing.T) {
	names := []string{ // pairs: proto name, C# name
		"result_id", "ResultId", "sdk_version", "SdkVersion", "inline_limit_bytes", "InlineLimitBytes",
		"traceparent", "Traceparent", "task_id", "TaskId", "x1_y", "X1Y", "a__b_", "AB", "worker_service", "WorkerService",
	}
	for i := 0; i < len(names); i += 2 {
		if got := csName(names[i]); got != names[i+1] {
			t.Errorf("csName(%q) = %q, want %q", names[i], got, names[i+1])
		}
	}
	if got := fileName("chorus/worker/v1/worker.proto"); got != "Worker.g.cs" {
		t.Errorf("fileName = %q, want Worker.g.cs", got)
	}
}

// TestNames checks the C# names, the JSON names written and both names read, for plain fields,
// a field with its own json_name, a oneof and its case enum.
func TestNames(t *testing.T) {
	custom := scalar("work_dir", 3, descriptorpb.FieldDescriptorProto_TYPE_STRING)
	custom.JsonName = proto.String("folder")
	src, err := run(t, &descriptorpb.FileDescriptorProto{
		MessageType: []*descriptorpb.DescriptorProto{
			{Name: proto.String("Part")},
			{
				Name: proto.String("Job"),
				Field: []*fdp{
					scalar("result_id", 1, descriptorpb.FieldDescriptorProto_TYPE_STRING),
					scalar("inline_limit_bytes", 2, descriptorpb.FieldDescriptorProto_TYPE_INT64),
					custom,
					inOneof(scalar("raw_bytes", 4, descriptorpb.FieldDescriptorProto_TYPE_BYTES), 0),
					inOneof(messageField("first_part", 5, ".test.v1.Part"), 0),
					list(messageField("parts", 6, ".test.v1.Part")),
					messageField("max_duration", 7, ".google.protobuf.Duration"),
				},
				OneofDecl: []*descriptorpb.OneofDescriptorProto{{Name: proto.String("body_kind")}},
			},
		},
		SourceCodeInfo: &descriptorpb.SourceCodeInfo{Location: []*descriptorpb.SourceCodeInfo_Location{
			{Path: []int32{4, 1}, Span: []int32{0, 0, 0}, LeadingComments: proto.String(" A job <of> parts & more.\n Second line.\n")},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"namespace Test.Protocol",
		"    /// <summary>\n    /// A job &lt;of&gt; parts &amp; more.\n    /// Second line.\n    /// </summary>\n    public sealed partial class Job\n",
		`public string ResultId = "";`,
		`public long InlineLimitBytes;`,
		`public string WorkDir = "";`,
		`public enum BodyKindOneofCase { None = 0, RawBytes = 4, FirstPart = 5 }`,
		`public BodyKindOneofCase BodyKindCase { get; private set; }`,
		`public byte[] RawBytes`,
		`public Part FirstPart`,
		`public List<Part> Parts = new List<Part>();`,
		`public ProtoDuration? MaxDuration;`,
		// Written under the JSON name.
		`ProtoJson.WriteString(w, "resultId", ResultId);`,
		`ProtoJson.WriteInt64(w, "inlineLimitBytes", InlineLimitBytes);`,
		`ProtoJson.WriteString(w, "folder", WorkDir);`,
		`case BodyKindOneofCase.RawBytes: w.Name("rawBytes"); ProtoJson.WriteBytesValue(w, RawBytes); break;`,
		`case BodyKindOneofCase.FirstPart: w.Name("firstPart"); FirstPart.WriteTo(w); break;`,
		`if (MaxDuration.HasValue) w.Name("maxDuration").String(MaxDuration.Value.ToString());`,
		// Read under both names, marked under the proto name, errors under the JSON name.
		"case \"resultId\":\n                    case \"result_id\":\n                        ProtoJson.Mark(ref seen, 1, field, \"result_id\");\n" +
			"                        m.ResultId = ProtoJson.ReadString(f.Value, field + \".resultId\");",
		"case \"folder\":\n                    case \"work_dir\":\n",
		"ProtoJson.Mark(ref seen, 4, field, \"raw_bytes\");\n                        ProtoJson.Oneof(ref oneofBodyKind, 4, field, \"body_kind\");",
		"case \"first_part\":\n                        ProtoJson.Oneof(ref oneofBodyKind, 5, field, \"body_kind\");\n" +
			"                        m.FirstPart = Part.FromJson(f.Value, field + \".firstPart\");",
		`m.Parts = ProtoJson.ReadList(f.Value, field + ".parts", Part.FromJson);`,
		"public static Part FromJson(JsonValue v, string field)\n        {\n            var m = new Part();\n            ProtoJson.Members(v, field);",
	} {
		if !strings.Contains(src, want) {
			t.Errorf("generated C# lacks %q", want)
		}
	}
	if strings.Contains(src, `Mark(ref seen, 5,`) {
		t.Error("a message member of a oneof is marked: ProtoJson.Oneof reports it given twice")
	}
	if t.Failed() {
		t.Log(src)
	}
}

// TestRepeatedMessages checks a list of messages: written only when it holds some, each item by its
// own WriteTo, and read by its type's FromJson.
func TestRepeatedMessages(t *testing.T) {
	src, err := run(t, &descriptorpb.FileDescriptorProto{
		MessageType: []*descriptorpb.DescriptorProto{
			{Name: proto.String("Envelope")},
			{Name: proto.String("EnvelopeBatch"), Field: []*fdp{list(messageField("messages", 1, ".test.v1.Envelope"))}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"public List<Envelope> Messages = new List<Envelope>();",
		"if (Messages != null && Messages.Count > 0)",
		`w.Name("messages").BeginArray();`,
		"foreach (var item in Messages) item.WriteTo(w);",
		`ProtoJson.Mark(ref seen, 1, field, "messages");`,
		`m.Messages = ProtoJson.ReadList(f.Value, field + ".messages", Envelope.FromJson);`,
	} {
		if !strings.Contains(src, want) {
			t.Errorf("generated C# lacks %q:\n%s", want, src)
		}
	}
}

// TestUnsupported checks that what the generator cannot map makes it fail, naming the declaration,
// instead of emitting C# that would map it wrongly.
func TestUnsupported(t *testing.T) {
	withOptional := scalar("note", 1, descriptorpb.FieldDescriptorProto_TYPE_STRING)
	withOptional.Proto3Optional, withOptional.OneofIndex = proto.Bool(true), proto.Int32(0)
	badJSON := scalar("id", 1, descriptorpb.FieldDescriptorProto_TYPE_STRING)
	badJSON.JsonName = proto.String("i-d")
	cases := []struct {
		name string
		msg  *descriptorpb.DescriptorProto
		want string
	}{
		{name: "float", msg: msg(scalar("ratio", 1, descriptorpb.FieldDescriptorProto_TYPE_FLOAT)), want: "field test.v1.M.ratio: kind float is not supported"},
		{name: "uint64", msg: msg(scalar("n", 1, descriptorpb.FieldDescriptorProto_TYPE_UINT64)), want: "field test.v1.M.n: kind uint64 is not supported"},
		{name: "sint32", msg: msg(scalar("n", 1, descriptorpb.FieldDescriptorProto_TYPE_SINT32)), want: "kind sint32 is not supported"},
		{name: "repeated int32", msg: msg(list(scalar("ns", 1, descriptorpb.FieldDescriptorProto_TYPE_INT32))), want: "field test.v1.M.ns: repeated int32 (only repeated string and repeated messages) is not supported"},
		{name: "optional string", msg: func() *descriptorpb.DescriptorProto {
			m := msg(withOptional)
			m.OneofDecl = []*descriptorpb.OneofDescriptorProto{{Name: proto.String("_note")}}
			return m
		}(), want: "field test.v1.M.note: optional string (only optional int32) is not supported"},
		{name: "bytes outside a oneof", msg: msg(scalar("blob", 1, descriptorpb.FieldDescriptorProto_TYPE_BYTES)), want: "field test.v1.M.blob: bytes outside a oneof is not supported"},
		{name: "int32 in a oneof", msg: func() *descriptorpb.DescriptorProto {
			m := msg(inOneof(scalar("n", 1, descriptorpb.FieldDescriptorProto_TYPE_INT32), 0))
			m.OneofDecl = []*descriptorpb.OneofDescriptorProto{{Name: proto.String("choice")}}
			return m
		}(), want: "field test.v1.M.n: int32 in a oneof (only string, bytes and messages) is not supported"},
		{name: "field number over 63", msg: msg(scalar("late", 64, descriptorpb.FieldDescriptorProto_TYPE_STRING)), want: "field test.v1.M.late: field number 64"},
		{name: "odd JSON name", msg: msg(badJSON), want: `JSON name "i-d"`},
		{name: "message of another file", msg: msg(messageField("at", 1, ".google.protobuf.Timestamp")),
			want: "field test.v1.M.at: message type google.protobuf.Timestamp (only google.protobuf.Duration and top-level messages of the same file) is not supported"},
		{name: "nested message", msg: &descriptorpb.DescriptorProto{Name: proto.String("M"), NestedType: []*descriptorpb.DescriptorProto{{Name: proto.String("Inner")}}},
			want: "message test.v1.M.Inner: nested messages are not supported"},
		{name: "C# name of the class", msg: msg(scalar("m", 1, descriptorpb.FieldDescriptorProto_TYPE_STRING)), want: "test.v1.M.m: its C# name M is taken in class M"},
		{name: "C# name of a method", msg: msg(scalar("write_to", 1, descriptorpb.FieldDescriptorProto_TYPE_STRING)), want: "its C# name WriteTo is taken"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src, err := run(t, &descriptorpb.FileDescriptorProto{MessageType: []*descriptorpb.DescriptorProto{c.msg}})
			if err == nil {
				t.Fatalf("generated instead of failing:\n%s", src)
			}
			if !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "test/v1/test.proto: ") {
				t.Fatalf("error %q, want it to name the file and contain %q", err, c.want)
			}
		})
	}
}

func TestUnsupportedEnum(t *testing.T) {
	_, err := run(t, &descriptorpb.FileDescriptorProto{
		EnumType: []*descriptorpb.EnumDescriptorProto{{Name: proto.String("Color"),
			Value: []*descriptorpb.EnumValueDescriptorProto{{Name: proto.String("COLOR_UNSPECIFIED"), Number: proto.Int32(0)}}}},
	})
	if err == nil || !strings.Contains(err.Error(), "enum test.v1.Color: enums are not supported") {
		t.Fatalf("err = %v, want enums refused", err)
	}
}

func TestNamespaceRequired(t *testing.T) {
	p, err := protogen.Options{}.New(&pluginpb.CodeGeneratorRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if err := generate(p, ""); err == nil || !strings.Contains(err.Error(), "namespace parameter is required") {
		t.Fatalf("err = %v, want the namespace parameter required", err)
	}
}

func msg(fields ...*fdp) *descriptorpb.DescriptorProto {
	return &descriptorpb.DescriptorProto{Name: proto.String("M"), Field: fields}
}
