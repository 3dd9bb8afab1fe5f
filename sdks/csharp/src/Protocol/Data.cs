using System.Collections.Generic;
using Chorus.Worker.Json;

namespace Chorus.Worker.Protocol
{
    // Proto3-JSON mapping of chorus.worker.v1 (proto/chorus/worker/v1/worker.proto). Every message
    // writes its canonical form (lowerCamelCase names, default values left out) with WriteTo and reads
    // with FromJson, which accepts lowerCamelCase and original field names and ignores unknown fields.

    /// <summary>chorus.worker.v1.Data: inline bytes, or the path of a file. Setting one clears the other.</summary>
    public sealed class Data
    {
        /// <summary>Which field of the oneof source is set.</summary>
        public enum SourceOneofCase { None = 0, Inline = 1, Path = 2 }

        byte[] inline;
        string path;

        public SourceOneofCase SourceCase { get; private set; }

        /// <summary>The bytes themselves, or null when the source is not inline.</summary>
        public byte[] Inline
        {
            get { return SourceCase == SourceOneofCase.Inline ? inline : null; }
            set { path = null; inline = value; SourceCase = value == null ? SourceOneofCase.None : SourceOneofCase.Inline; }
        }

        /// <summary>Absolute path of a file holding the bytes, or null when the source is not a path.</summary>
        public string Path
        {
            get { return SourceCase == SourceOneofCase.Path ? path : null; }
            set { inline = null; path = value; SourceCase = value == null ? SourceOneofCase.None : SourceOneofCase.Path; }
        }

        public static Data FromBytes(byte[] b) { return new Data { Inline = b ?? new byte[0] }; }

        public static Data FromPath(string p) { return new Data { Path = p }; }

        public void WriteTo(JsonWriter w)
        {
            w.BeginObject();
            if (SourceCase == SourceOneofCase.Inline) { w.Name("inline"); ProtoJson.WriteBytesValue(w, inline); }
            else if (SourceCase == SourceOneofCase.Path) w.Name("path").String(path);
            w.EndObject();
        }

        public static Data FromJson(JsonValue v, string field)
        {
            var m = new Data();
            ulong seen = 0;
            int oneof = 0;
            foreach (var f in ProtoJson.Members(v, field))
            {
                if (f.Value.IsNull) continue;
                switch (f.Key)
                {
                    case "inline":
                        ProtoJson.Mark(ref seen, 1, field, "inline");
                        ProtoJson.Oneof(ref oneof, 1, field, "source");
                        m.Inline = ProtoJson.ReadBytes(f.Value, field + ".inline");
                        break;
                    case "path":
                        ProtoJson.Mark(ref seen, 2, field, "path");
                        ProtoJson.Oneof(ref oneof, 2, field, "source");
                        m.Path = ProtoJson.ReadString(f.Value, field + ".path");
                        break;
                }
            }
            return m;
        }

        internal static void Write(JsonWriter w, string name, Data d)
        {
            if (d == null) return;
            w.Name(name);
            d.WriteTo(w);
        }
    }

    /// <summary>chorus.worker.v1.Input: one data dependency of a task.</summary>
    public sealed class Input
    {
        public string ResultId = "";
        public Data Data;

        public void WriteTo(JsonWriter w)
        {
            w.BeginObject();
            ProtoJson.WriteString(w, "resultId", ResultId);
            Data.Write(w, "data", Data);
            w.EndObject();
        }

        public static Input FromJson(JsonValue v, string field)
        {
            var m = new Input();
            ulong seen = 0;
            foreach (var f in ProtoJson.Members(v, field))
            {
                if (f.Value.IsNull) continue;
                switch (f.Key)
                {
                    case "resultId":
                    case "result_id":
                        ProtoJson.Mark(ref seen, 1, field, "result_id");
                        m.ResultId = ProtoJson.ReadString(f.Value, field + ".resultId");
                        break;
                    case "data":
                        ProtoJson.Mark(ref seen, 2, field, "data");
                        m.Data = Data.FromJson(f.Value, field + ".data");
                        break;
                }
            }
            return m;
        }
    }

    /// <summary>chorus.worker.v1.Output: one expected output as the worker returns it.</summary>
    public sealed class Output
    {
        public string ResultId = "";
        public Data Data;

        public void WriteTo(JsonWriter w)
        {
            w.BeginObject();
            ProtoJson.WriteString(w, "resultId", ResultId);
            Data.Write(w, "data", Data);
            w.EndObject();
        }

        public static Output FromJson(JsonValue v, string field)
        {
            var m = new Output();
            ulong seen = 0;
            foreach (var f in ProtoJson.Members(v, field))
            {
                if (f.Value.IsNull) continue;
                switch (f.Key)
                {
                    case "resultId":
                    case "result_id":
                        ProtoJson.Mark(ref seen, 1, field, "result_id");
                        m.ResultId = ProtoJson.ReadString(f.Value, field + ".resultId");
                        break;
                    case "data":
                        ProtoJson.Mark(ref seen, 2, field, "data");
                        m.Data = Data.FromJson(f.Value, field + ".data");
                        break;
                }
            }
            return m;
        }
    }

    /// <summary>chorus.worker.v1.NewResult: a result created by a running task.</summary>
    public sealed class NewResult
    {
        public string ResultId = "";
        /// <summary>Its data if complete at once; null leaves it to be an output of a subtask.</summary>
        public Data Data;

        public void WriteTo(JsonWriter w)
        {
            w.BeginObject();
            ProtoJson.WriteString(w, "resultId", ResultId);
            Data.Write(w, "data", Data);
            w.EndObject();
        }

        public static NewResult FromJson(JsonValue v, string field)
        {
            var m = new NewResult();
            ulong seen = 0;
            foreach (var f in ProtoJson.Members(v, field))
            {
                if (f.Value.IsNull) continue;
                switch (f.Key)
                {
                    case "resultId":
                    case "result_id":
                        ProtoJson.Mark(ref seen, 1, field, "result_id");
                        m.ResultId = ProtoJson.ReadString(f.Value, field + ".resultId");
                        break;
                    case "data":
                        ProtoJson.Mark(ref seen, 2, field, "data");
                        m.Data = Data.FromJson(f.Value, field + ".data");
                        break;
                }
            }
            return m;
        }
    }

    /// <summary>chorus.worker.v1.SubtaskOptions: a subtask's options; unset fields take the parent's.</summary>
    public sealed class SubtaskOptions
    {
        public string Partition = "";
        public int? Priority;
        public int? MaxRetries;
        public ProtoDuration? MaxDuration;
        public Dictionary<string, string> Options = new Dictionary<string, string>();

        public void WriteTo(JsonWriter w)
        {
            w.BeginObject();
            ProtoJson.WriteString(w, "partition", Partition);
            if (Priority.HasValue) w.Name("priority").Number(Priority.Value);
            if (MaxRetries.HasValue) w.Name("maxRetries").Number(MaxRetries.Value);
            if (MaxDuration.HasValue) w.Name("maxDuration").String(MaxDuration.Value.ToString());
            ProtoJson.WriteStringMap(w, "options", Options);
            w.EndObject();
        }

        public static SubtaskOptions FromJson(JsonValue v, string field)
        {
            var m = new SubtaskOptions();
            ulong seen = 0;
            foreach (var f in ProtoJson.Members(v, field))
            {
                if (f.Value.IsNull) continue;
                switch (f.Key)
                {
                    case "partition":
                        ProtoJson.Mark(ref seen, 1, field, "partition");
                        m.Partition = ProtoJson.ReadString(f.Value, field + ".partition");
                        break;
                    case "priority":
                        ProtoJson.Mark(ref seen, 2, field, "priority");
                        m.Priority = ProtoJson.ReadInt32(f.Value, field + ".priority");
                        break;
                    case "maxRetries":
                    case "max_retries":
                        ProtoJson.Mark(ref seen, 3, field, "max_retries");
                        m.MaxRetries = ProtoJson.ReadInt32(f.Value, field + ".maxRetries");
                        break;
                    case "maxDuration":
                    case "max_duration":
                        ProtoJson.Mark(ref seen, 4, field, "max_duration");
                        m.MaxDuration = ProtoJson.ReadDuration(f.Value, field + ".maxDuration");
                        break;
                    case "options":
                        ProtoJson.Mark(ref seen, 5, field, "options");
                        m.Options = ProtoJson.ReadStringMap(f.Value, field + ".options");
                        break;
                }
            }
            return m;
        }
    }

    /// <summary>chorus.worker.v1.Subtask: one task a running task submits into its session.</summary>
    public sealed class Subtask
    {
        public string Method = "";
        public Data Payload;
        public List<string> DataDependencies = new List<string>();
        public List<string> ExpectedOutputIds = new List<string>();
        public SubtaskOptions Options;

        public void WriteTo(JsonWriter w)
        {
            w.BeginObject();
            ProtoJson.WriteString(w, "method", Method);
            Data.Write(w, "payload", Payload);
            ProtoJson.WriteStrings(w, "dataDependencies", DataDependencies);
            ProtoJson.WriteStrings(w, "expectedOutputIds", ExpectedOutputIds);
            if (Options != null) { w.Name("options"); Options.WriteTo(w); }
            w.EndObject();
        }

        public static Subtask FromJson(JsonValue v, string field)
        {
            var m = new Subtask();
            ulong seen = 0;
            foreach (var f in ProtoJson.Members(v, field))
            {
                if (f.Value.IsNull) continue;
                switch (f.Key)
                {
                    case "method":
                        ProtoJson.Mark(ref seen, 1, field, "method");
                        m.Method = ProtoJson.ReadString(f.Value, field + ".method");
                        break;
                    case "payload":
                        ProtoJson.Mark(ref seen, 2, field, "payload");
                        m.Payload = Data.FromJson(f.Value, field + ".payload");
                        break;
                    case "dataDependencies":
                    case "data_dependencies":
                        ProtoJson.Mark(ref seen, 3, field, "data_dependencies");
                        m.DataDependencies = ProtoJson.ReadStrings(f.Value, field + ".dataDependencies");
                        break;
                    case "expectedOutputIds":
                    case "expected_output_ids":
                        ProtoJson.Mark(ref seen, 4, field, "expected_output_ids");
                        m.ExpectedOutputIds = ProtoJson.ReadStrings(f.Value, field + ".expectedOutputIds");
                        break;
                    case "options":
                        ProtoJson.Mark(ref seen, 5, field, "options");
                        m.Options = SubtaskOptions.FromJson(f.Value, field + ".options");
                        break;
                }
            }
            return m;
        }
    }
}
