using System;
using System.Collections.Generic;
using Chorus.Worker.Json;

namespace Chorus.Worker.Protocol
{
    // Hand-written additions to the message classes that protoc-gen-csharp-worker generates from
    // proto/chorus/worker/v1/worker.proto into gen/ (`make gen`): shortcuts, the envelopes' text form,
    // and the base class of the two batch messages.

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

    /// <summary>
    /// What RequestBatch and ResponseBatch share: several messages of one direction in one, read in order as if sent
    /// one by one. The two differ only in the envelope they hold (T). The generator derives every message whose only
    /// field is `repeated T messages = 1` from it; it maps that field as a generated one would.
    /// </summary>
    public abstract class MessageBatch<T> where T : class
    {
        public List<T> Messages = new List<T>();

        /// <summary>Writes one message of the batch (its envelope's WriteTo).</summary>
        protected abstract void Write(T message, JsonWriter w);

        public void WriteTo(JsonWriter w)
        {
            w.BeginObject();
            if (Messages != null && Messages.Count > 0)
            {
                w.Name("messages").BeginArray();
                foreach (var m in Messages) Write(m, w);
                w.EndArray();
            }
            w.EndObject();
        }

        /// <summary>Reads a batch of type B whose messages read reads.</summary>
        protected static B Read<B>(JsonValue v, string field, Func<JsonValue, string, T> read) where B : MessageBatch<T>, new()
        {
            var m = new B();
            ulong seen = 0;
            foreach (var f in ProtoJson.Members(v, field))
            {
                if (f.Value.IsNull) continue;
                switch (f.Key)
                {
                    case "messages":
                        ProtoJson.Mark(ref seen, 1, field, "messages");
                        m.Messages = ProtoJson.ReadList(f.Value, field + ".messages", read);
                        break;
                }
            }
            return m;
        }
    }
}
