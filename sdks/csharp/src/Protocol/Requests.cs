using System.Collections.Generic;
using Chorus.Worker.Json;

namespace Chorus.Worker.Protocol
{
    /// <summary>chorus.worker.v1.Hello: the first message a worker sends.</summary>
    public sealed class Hello
    {
        public string Token = "";
        public string Language = "";
        public string SdkVersion = "";
        public List<string> Methods = new List<string>();
        public int Capacity;
        public int Pid;
        /// <summary>The worker understands ConnectResponse.batch (the agent may then batch what it sends).</summary>
        public bool AcceptsBatches;

        public void WriteTo(JsonWriter w)
        {
            w.BeginObject();
            ProtoJson.WriteString(w, "token", Token);
            ProtoJson.WriteString(w, "language", Language);
            ProtoJson.WriteString(w, "sdkVersion", SdkVersion);
            ProtoJson.WriteStrings(w, "methods", Methods);
            ProtoJson.WriteInt32(w, "capacity", Capacity);
            ProtoJson.WriteInt32(w, "pid", Pid);
            ProtoJson.WriteBool(w, "acceptsBatches", AcceptsBatches);
            w.EndObject();
        }

        public static Hello FromJson(JsonValue v, string field)
        {
            var m = new Hello();
            ulong seen = 0;
            foreach (var f in ProtoJson.Members(v, field))
            {
                if (f.Value.IsNull) continue;
                switch (f.Key)
                {
                    case "token":
                        ProtoJson.Mark(ref seen, 1, field, "token");
                        m.Token = ProtoJson.ReadString(f.Value, field + ".token");
                        break;
                    case "language":
                        ProtoJson.Mark(ref seen, 2, field, "language");
                        m.Language = ProtoJson.ReadString(f.Value, field + ".language");
                        break;
                    case "sdkVersion":
                    case "sdk_version":
                        ProtoJson.Mark(ref seen, 3, field, "sdk_version");
                        m.SdkVersion = ProtoJson.ReadString(f.Value, field + ".sdkVersion");
                        break;
                    case "methods":
                        ProtoJson.Mark(ref seen, 4, field, "methods");
                        m.Methods = ProtoJson.ReadStrings(f.Value, field + ".methods");
                        break;
                    case "capacity":
                        ProtoJson.Mark(ref seen, 5, field, "capacity");
                        m.Capacity = ProtoJson.ReadInt32(f.Value, field + ".capacity");
                        break;
                    case "pid":
                        ProtoJson.Mark(ref seen, 6, field, "pid");
                        m.Pid = ProtoJson.ReadInt32(f.Value, field + ".pid");
                        break;
                    case "acceptsBatches":
                    case "accepts_batches":
                        ProtoJson.Mark(ref seen, 7, field, "accepts_batches");
                        m.AcceptsBatches = ProtoJson.ReadBool(f.Value, field + ".acceptsBatches");
                        break;
                }
            }
            return m;
        }
    }

    /// <summary>chorus.worker.v1.TaskCompleted: a task succeeded.</summary>
    public sealed class TaskCompleted
    {
        public string TaskId = "";
        public List<Output> Outputs = new List<Output>();

        public void WriteTo(JsonWriter w)
        {
            w.BeginObject();
            ProtoJson.WriteString(w, "taskId", TaskId);
            if (Outputs != null && Outputs.Count > 0)
            {
                w.Name("outputs").BeginArray();
                foreach (var o in Outputs) o.WriteTo(w);
                w.EndArray();
            }
            w.EndObject();
        }

        public static TaskCompleted FromJson(JsonValue v, string field)
        {
            var m = new TaskCompleted();
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
                    case "outputs":
                        ProtoJson.Mark(ref seen, 2, field, "outputs");
                        m.Outputs = ProtoJson.ReadList(f.Value, field + ".outputs", Output.FromJson);
                        break;
                }
            }
            return m;
        }
    }

    /// <summary>chorus.worker.v1.TaskFailed: a task failed.</summary>
    public sealed class TaskFailed
    {
        public string TaskId = "";
        public string Message = "";
        public bool Retryable;

        public void WriteTo(JsonWriter w)
        {
            w.BeginObject();
            ProtoJson.WriteString(w, "taskId", TaskId);
            ProtoJson.WriteString(w, "message", Message);
            ProtoJson.WriteBool(w, "retryable", Retryable);
            w.EndObject();
        }

        public static TaskFailed FromJson(JsonValue v, string field)
        {
            var m = new TaskFailed();
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
                    case "message":
                        ProtoJson.Mark(ref seen, 2, field, "message");
                        m.Message = ProtoJson.ReadString(f.Value, field + ".message");
                        break;
                    case "retryable":
                        ProtoJson.Mark(ref seen, 3, field, "retryable");
                        m.Retryable = ProtoJson.ReadBool(f.Value, field + ".retryable");
                        break;
                }
            }
            return m;
        }
    }

    /// <summary>chorus.worker.v1.TaskProgress: how far a running task is.</summary>
    public sealed class TaskProgress
    {
        public string TaskId = "";
        public double Fraction;
        public string Message = "";

        public void WriteTo(JsonWriter w)
        {
            w.BeginObject();
            ProtoJson.WriteString(w, "taskId", TaskId);
            ProtoJson.WriteDouble(w, "fraction", Fraction);
            ProtoJson.WriteString(w, "message", Message);
            w.EndObject();
        }

        public static TaskProgress FromJson(JsonValue v, string field)
        {
            var m = new TaskProgress();
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
                    case "fraction":
                        ProtoJson.Mark(ref seen, 2, field, "fraction");
                        m.Fraction = ProtoJson.ReadDouble(f.Value, field + ".fraction");
                        break;
                    case "message":
                        ProtoJson.Mark(ref seen, 3, field, "message");
                        m.Message = ProtoJson.ReadString(f.Value, field + ".message");
                        break;
                }
            }
            return m;
        }
    }

    /// <summary>chorus.worker.v1.CreateResults: create results for a running task.</summary>
    public sealed class CreateResults
    {
        public string CallId = "";
        public string TaskId = "";
        public List<NewResult> Results = new List<NewResult>();

        public void WriteTo(JsonWriter w)
        {
            w.BeginObject();
            ProtoJson.WriteString(w, "callId", CallId);
            ProtoJson.WriteString(w, "taskId", TaskId);
            if (Results != null && Results.Count > 0)
            {
                w.Name("results").BeginArray();
                foreach (var r in Results) r.WriteTo(w);
                w.EndArray();
            }
            w.EndObject();
        }

        public static CreateResults FromJson(JsonValue v, string field)
        {
            var m = new CreateResults();
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
                    case "taskId":
                    case "task_id":
                        ProtoJson.Mark(ref seen, 2, field, "task_id");
                        m.TaskId = ProtoJson.ReadString(f.Value, field + ".taskId");
                        break;
                    case "results":
                        ProtoJson.Mark(ref seen, 3, field, "results");
                        m.Results = ProtoJson.ReadList(f.Value, field + ".results", NewResult.FromJson);
                        break;
                }
            }
            return m;
        }
    }

    /// <summary>chorus.worker.v1.SubmitTasks: submit subtasks for a running task.</summary>
    public sealed class SubmitTasks
    {
        public string CallId = "";
        public string TaskId = "";
        public List<Subtask> Tasks = new List<Subtask>();

        public void WriteTo(JsonWriter w)
        {
            w.BeginObject();
            ProtoJson.WriteString(w, "callId", CallId);
            ProtoJson.WriteString(w, "taskId", TaskId);
            if (Tasks != null && Tasks.Count > 0)
            {
                w.Name("tasks").BeginArray();
                foreach (var t in Tasks) t.WriteTo(w);
                w.EndArray();
            }
            w.EndObject();
        }

        public static SubmitTasks FromJson(JsonValue v, string field)
        {
            var m = new SubmitTasks();
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
                    case "taskId":
                    case "task_id":
                        ProtoJson.Mark(ref seen, 2, field, "task_id");
                        m.TaskId = ProtoJson.ReadString(f.Value, field + ".taskId");
                        break;
                    case "tasks":
                        ProtoJson.Mark(ref seen, 3, field, "tasks");
                        m.Tasks = ProtoJson.ReadList(f.Value, field + ".tasks", Subtask.FromJson);
                        break;
                }
            }
            return m;
        }
    }

    /// <summary>chorus.worker.v1.Pong: answer to a Ping.</summary>
    public sealed class Pong
    {
        public long Nonce;

        public void WriteTo(JsonWriter w)
        {
            w.BeginObject();
            ProtoJson.WriteInt64(w, "nonce", Nonce);
            w.EndObject();
        }

        public static Pong FromJson(JsonValue v, string field)
        {
            var m = new Pong();
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
