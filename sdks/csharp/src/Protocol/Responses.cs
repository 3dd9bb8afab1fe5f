using System.Collections.Generic;
using Chorus.Worker.Json;

namespace Chorus.Worker.Protocol
{
    /// <summary>chorus.worker.v1.Welcome: the agent's answer to Hello.</summary>
    public sealed class Welcome
    {
        public string AgentId = "";
        public string WorkerId = "";
        public string WorkDir = "";
        public long InlineLimitBytes;
        /// <summary>The agent understands ConnectRequest.batch: the worker may send what it has ready at once as one batch.</summary>
        public bool AcceptsBatches;

        public void WriteTo(JsonWriter w)
        {
            w.BeginObject();
            ProtoJson.WriteString(w, "agentId", AgentId);
            ProtoJson.WriteString(w, "workerId", WorkerId);
            ProtoJson.WriteString(w, "workDir", WorkDir);
            ProtoJson.WriteInt64(w, "inlineLimitBytes", InlineLimitBytes);
            ProtoJson.WriteBool(w, "acceptsBatches", AcceptsBatches);
            w.EndObject();
        }

        public static Welcome FromJson(JsonValue v, string field)
        {
            var m = new Welcome();
            ulong seen = 0;
            foreach (var f in ProtoJson.Members(v, field))
            {
                if (f.Value.IsNull) continue;
                switch (f.Key)
                {
                    case "agentId":
                    case "agent_id":
                        ProtoJson.Mark(ref seen, 1, field, "agent_id");
                        m.AgentId = ProtoJson.ReadString(f.Value, field + ".agentId");
                        break;
                    case "workerId":
                    case "worker_id":
                        ProtoJson.Mark(ref seen, 2, field, "worker_id");
                        m.WorkerId = ProtoJson.ReadString(f.Value, field + ".workerId");
                        break;
                    case "workDir":
                    case "work_dir":
                        ProtoJson.Mark(ref seen, 3, field, "work_dir");
                        m.WorkDir = ProtoJson.ReadString(f.Value, field + ".workDir");
                        break;
                    case "inlineLimitBytes":
                    case "inline_limit_bytes":
                        ProtoJson.Mark(ref seen, 4, field, "inline_limit_bytes");
                        m.InlineLimitBytes = ProtoJson.ReadInt64(f.Value, field + ".inlineLimitBytes");
                        break;
                    case "acceptsBatches":
                    case "accepts_batches":
                        ProtoJson.Mark(ref seen, 5, field, "accepts_batches");
                        m.AcceptsBatches = ProtoJson.ReadBool(f.Value, field + ".acceptsBatches");
                        break;
                }
            }
            return m;
        }
    }

    /// <summary>chorus.worker.v1.AssignTask: a task to run.</summary>
    public sealed class AssignTask
    {
        public string SessionId = "";
        public string TaskId = "";
        public string Method = "";
        public Data Payload;
        public List<Input> Inputs = new List<Input>();
        public List<string> ExpectedOutputIds = new List<string>();
        public Dictionary<string, string> Options = new Dictionary<string, string>();
        public ProtoDuration? MaxDuration;
        public int Attempt;
        public string Traceparent = "";
        public string Tracestate = "";
        public string OutputDir = "";
        public string Partition = "";

        public void WriteTo(JsonWriter w)
        {
            w.BeginObject();
            ProtoJson.WriteString(w, "sessionId", SessionId);
            ProtoJson.WriteString(w, "taskId", TaskId);
            ProtoJson.WriteString(w, "method", Method);
            Data.Write(w, "payload", Payload);
            if (Inputs != null && Inputs.Count > 0)
            {
                w.Name("inputs").BeginArray();
                foreach (var i in Inputs) i.WriteTo(w);
                w.EndArray();
            }
            ProtoJson.WriteStrings(w, "expectedOutputIds", ExpectedOutputIds);
            ProtoJson.WriteStringMap(w, "options", Options);
            if (MaxDuration.HasValue) w.Name("maxDuration").String(MaxDuration.Value.ToString());
            ProtoJson.WriteInt32(w, "attempt", Attempt);
            ProtoJson.WriteString(w, "traceparent", Traceparent);
            ProtoJson.WriteString(w, "tracestate", Tracestate);
            ProtoJson.WriteString(w, "outputDir", OutputDir);
            ProtoJson.WriteString(w, "partition", Partition);
            w.EndObject();
        }

        public static AssignTask FromJson(JsonValue v, string field)
        {
            var m = new AssignTask();
            ulong seen = 0;
            foreach (var f in ProtoJson.Members(v, field))
            {
                if (f.Value.IsNull) continue;
                switch (f.Key)
                {
                    case "sessionId":
                    case "session_id":
                        ProtoJson.Mark(ref seen, 1, field, "session_id");
                        m.SessionId = ProtoJson.ReadString(f.Value, field + ".sessionId");
                        break;
                    case "taskId":
                    case "task_id":
                        ProtoJson.Mark(ref seen, 2, field, "task_id");
                        m.TaskId = ProtoJson.ReadString(f.Value, field + ".taskId");
                        break;
                    case "method":
                        ProtoJson.Mark(ref seen, 3, field, "method");
                        m.Method = ProtoJson.ReadString(f.Value, field + ".method");
                        break;
                    case "payload":
                        ProtoJson.Mark(ref seen, 4, field, "payload");
                        m.Payload = Data.FromJson(f.Value, field + ".payload");
                        break;
                    case "inputs":
                        ProtoJson.Mark(ref seen, 5, field, "inputs");
                        m.Inputs = ProtoJson.ReadList(f.Value, field + ".inputs", Input.FromJson);
                        break;
                    case "expectedOutputIds":
                    case "expected_output_ids":
                        ProtoJson.Mark(ref seen, 6, field, "expected_output_ids");
                        m.ExpectedOutputIds = ProtoJson.ReadStrings(f.Value, field + ".expectedOutputIds");
                        break;
                    case "options":
                        ProtoJson.Mark(ref seen, 7, field, "options");
                        m.Options = ProtoJson.ReadStringMap(f.Value, field + ".options");
                        break;
                    case "maxDuration":
                    case "max_duration":
                        ProtoJson.Mark(ref seen, 8, field, "max_duration");
                        m.MaxDuration = ProtoJson.ReadDuration(f.Value, field + ".maxDuration");
                        break;
                    case "attempt":
                        ProtoJson.Mark(ref seen, 9, field, "attempt");
                        m.Attempt = ProtoJson.ReadInt32(f.Value, field + ".attempt");
                        break;
                    case "traceparent":
                        ProtoJson.Mark(ref seen, 10, field, "traceparent");
                        m.Traceparent = ProtoJson.ReadString(f.Value, field + ".traceparent");
                        break;
                    case "tracestate":
                        ProtoJson.Mark(ref seen, 11, field, "tracestate");
                        m.Tracestate = ProtoJson.ReadString(f.Value, field + ".tracestate");
                        break;
                    case "outputDir":
                    case "output_dir":
                        ProtoJson.Mark(ref seen, 12, field, "output_dir");
                        m.OutputDir = ProtoJson.ReadString(f.Value, field + ".outputDir");
                        break;
                    case "partition":
                        ProtoJson.Mark(ref seen, 13, field, "partition");
                        m.Partition = ProtoJson.ReadString(f.Value, field + ".partition");
                        break;
                }
            }
            return m;
        }
    }

    /// <summary>chorus.worker.v1.CancelTask: stop a task.</summary>
    public sealed class CancelTask
    {
        public string TaskId = "";
        public string Reason = "";

        public void WriteTo(JsonWriter w)
        {
            w.BeginObject();
            ProtoJson.WriteString(w, "taskId", TaskId);
            ProtoJson.WriteString(w, "reason", Reason);
            w.EndObject();
        }

        public static CancelTask FromJson(JsonValue v, string field)
        {
            var m = new CancelTask();
            ulong seen = 0;
            foreach (var f in ProtoJson.Members(v, field))
            {
                if (f.Value.IsNull) continue;
                switch (f.Key)
                {
                    case "taskId":
                    case "task_id":
                        ProtoJson.Mark(ref seen, 1, field, "task_id");
                        m.TaskId = ProtoJson.ReadString(f.Value, field + ".taskId");
                        break;
                    case "reason":
                        ProtoJson.Mark(ref seen, 2, field, "reason");
                        m.Reason = ProtoJson.ReadString(f.Value, field + ".reason");
                        break;
                }
            }
            return m;
        }
    }

    /// <summary>chorus.worker.v1.Drain: finish the running tasks and exit.</summary>
    public sealed class Drain
    {
        /// <summary>How long the agent waits before it kills the process; null when not given.</summary>
        public ProtoDuration? Grace;

        public void WriteTo(JsonWriter w)
        {
            w.BeginObject();
            if (Grace.HasValue) w.Name("grace").String(Grace.Value.ToString());
            w.EndObject();
        }

        public static Drain FromJson(JsonValue v, string field)
        {
            var m = new Drain();
            ulong seen = 0;
            foreach (var f in ProtoJson.Members(v, field))
            {
                if (f.Value.IsNull) continue;
                if (f.Key == "grace")
                {
                    ProtoJson.Mark(ref seen, 1, field, "grace");
                    m.Grace = ProtoJson.ReadDuration(f.Value, field + ".grace");
                }
            }
            return m;
        }
    }

    /// <summary>chorus.worker.v1.CreateResultsReply: answer to CreateResults.</summary>
    public sealed class CreateResultsReply
    {
        public string CallId = "";
        public List<string> ResultIds = new List<string>();
        public string Error = "";

        public void WriteTo(JsonWriter w)
        {
            w.BeginObject();
            ProtoJson.WriteString(w, "callId", CallId);
            ProtoJson.WriteStrings(w, "resultIds", ResultIds);
            ProtoJson.WriteString(w, "error", Error);
            w.EndObject();
        }

        public static CreateResultsReply FromJson(JsonValue v, string field)
        {
            var m = new CreateResultsReply();
            ulong seen = 0;
            foreach (var f in ProtoJson.Members(v, field))
            {
                if (f.Value.IsNull) continue;
                switch (f.Key)
                {
                    case "callId":
                    case "call_id":
                        ProtoJson.Mark(ref seen, 1, field, "call_id");
                        m.CallId = ProtoJson.ReadString(f.Value, field + ".callId");
                        break;
                    case "resultIds":
                    case "result_ids":
                        ProtoJson.Mark(ref seen, 2, field, "result_ids");
                        m.ResultIds = ProtoJson.ReadStrings(f.Value, field + ".resultIds");
                        break;
                    case "error":
                        ProtoJson.Mark(ref seen, 3, field, "error");
                        m.Error = ProtoJson.ReadString(f.Value, field + ".error");
                        break;
                }
            }
            return m;
        }
    }

    /// <summary>chorus.worker.v1.SubmitTasksReply: answer to SubmitTasks.</summary>
    public sealed class SubmitTasksReply
    {
        public string CallId = "";
        public List<string> TaskIds = new List<string>();
        public string Error = "";

        public void WriteTo(JsonWriter w)
        {
            w.BeginObject();
            ProtoJson.WriteString(w, "callId", CallId);
            ProtoJson.WriteStrings(w, "taskIds", TaskIds);
            ProtoJson.WriteString(w, "error", Error);
            w.EndObject();
        }

        public static SubmitTasksReply FromJson(JsonValue v, string field)
        {
            var m = new SubmitTasksReply();
            ulong seen = 0;
            foreach (var f in ProtoJson.Members(v, field))
            {
                if (f.Value.IsNull) continue;
                switch (f.Key)
                {
                    case "callId":
                    case "call_id":
                        ProtoJson.Mark(ref seen, 1, field, "call_id");
                        m.CallId = ProtoJson.ReadString(f.Value, field + ".callId");
                        break;
                    case "taskIds":
                    case "task_ids":
                        ProtoJson.Mark(ref seen, 2, field, "task_ids");
                        m.TaskIds = ProtoJson.ReadStrings(f.Value, field + ".taskIds");
                        break;
                    case "error":
                        ProtoJson.Mark(ref seen, 3, field, "error");
                        m.Error = ProtoJson.ReadString(f.Value, field + ".error");
                        break;
                }
            }
            return m;
        }
    }

    /// <summary>chorus.worker.v1.Ping: liveness check.</summary>
    public sealed class Ping
    {
        public long Nonce;

        public void WriteTo(JsonWriter w)
        {
            w.BeginObject();
            ProtoJson.WriteInt64(w, "nonce", Nonce);
            w.EndObject();
        }

        public static Ping FromJson(JsonValue v, string field)
        {
            var m = new Ping();
            ulong seen = 0;
            foreach (var f in ProtoJson.Members(v, field))
            {
                if (f.Value.IsNull) continue;
                if (f.Key == "nonce")
                {
                    ProtoJson.Mark(ref seen, 1, field, "nonce");
                    m.Nonce = ProtoJson.ReadInt64(f.Value, field + ".nonce");
                }
            }
            return m;
        }
    }
}
