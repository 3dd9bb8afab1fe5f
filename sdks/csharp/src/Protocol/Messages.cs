using Chorus.Worker.Json;

namespace Chorus.Worker.Protocol
{
    // Hand-written additions to the message classes that protoc-gen-csharp-worker generates from
    // proto/chorus/worker/v1/worker.proto into gen/ (`make gen`): shortcuts and the envelopes' text form.

    public sealed partial class Data
    {
        public static Data FromBytes(byte[] b) { return new Data { Inline = b ?? new byte[0] }; }

        public static Data FromPath(string p) { return new Data { Path = p }; }
    }

    public sealed partial class ConnectRequest
    {
        /// <summary>The compact proto3-JSON text (one line: JSON strings escape newlines).</summary>
        public string ToJson() { return ProtoJson.Text(WriteTo); }

        public static ConnectRequest Parse(string json) { return FromJson(JsonReader.Parse(json), "ConnectRequest"); }
    }

    public sealed partial class ConnectResponse
    {
        /// <summary>The compact proto3-JSON text (one line: JSON strings escape newlines).</summary>
        public string ToJson() { return ProtoJson.Text(WriteTo); }

        public static ConnectResponse Parse(string json) { return FromJson(JsonReader.Parse(json), "ConnectResponse"); }
    }
}
