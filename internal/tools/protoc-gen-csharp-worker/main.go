// Command protoc-gen-csharp-worker is the protoc plugin that writes the C# worker SDK's message classes
// (sdks/csharp/src/Protocol/gen) from the worker protocol, proto/chorus/worker/v1/worker.proto. `make gen`
// runs it through buf (buf.gen.yaml), so the classes follow the .proto like every other generated
// language.
//
// The C# SDK has no Google.Protobuf runtime: each message becomes a plain class with public fields, a
// WriteTo(JsonWriter) that writes its canonical proto3-JSON form and a static FromJson(JsonValue, string)
// that reads it, built on the hand-written helpers of sdks/csharp/src/Protocol (ProtoJson and
// ProtoDuration). Field kinds those helpers do not cover make the plugin fail, naming the field, rather
// than emit code that would map it wrongly.
//
// Parameter: namespace=<C# namespace> (required).
package main

import (
	"flag"

	"google.golang.org/protobuf/compiler/protogen"
	"google.golang.org/protobuf/types/pluginpb"
)

func main() {
	var flags flag.FlagSet
	namespace := flags.String("namespace", "", "C# namespace of the generated classes")
	protogen.Options{ParamFunc: flags.Set}.Run(func(p *protogen.Plugin) error {
		p.SupportedFeatures = uint64(pluginpb.CodeGeneratorResponse_FEATURE_PROTO3_OPTIONAL)
		return generate(p, *namespace)
	})
}
