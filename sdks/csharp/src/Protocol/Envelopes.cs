using System;
using System.Collections.Generic;
using Chorus.Worker.Json;

namespace Chorus.Worker.Protocol
{
    /// <summary>
    /// chorus.worker.v1.ConnectRequest: one message from the worker to the agent (on the worker's stdout
    /// in the stdio transport). Exactly one of its fields is set; setting one clears the others.
    /// </summary>
    public sealed class ConnectRequest
    {
        public enum MessageOneofCase { None = 0, Hello = 1, TaskCompleted = 2, TaskFailed = 3, TaskProgress = 4, CreateResults = 5, SubmitTasks = 6, Pong = 7, Batch = 8 }

        object message;

        public MessageOneofCase MessageCase { get; private set; }

        T Get<T>(MessageOneofCase c) where T : class { return MessageCase == c ? (T)message : null; }

        void Set(object value, MessageOneofCase c)
        {
            message = value;
            MessageCase = value == null ? MessageOneofCase.None : c;
        }

        public Hello Hello { get { return Get<Hello>(MessageOneofCase.Hello); } set { Set(value, MessageOneofCase.Hello); } }
        public TaskCompleted TaskCompleted { get { return Get<TaskCompleted>(MessageOneofCase.TaskCompleted); } set { Set(value, MessageOneofCase.TaskCompleted); } }
        public TaskFailed TaskFailed { get { return Get<TaskFailed>(MessageOneofCase.TaskFailed); } set { Set(value, MessageOneofCase.TaskFailed); } }
        public TaskProgress TaskProgress { get { return Get<TaskProgress>(MessageOneofCase.TaskProgress); } set { Set(value, MessageOneofCase.TaskProgress); } }
        public CreateResults CreateResults { get { return Get<CreateResults>(MessageOneofCase.CreateResults); } set { Set(value, MessageOneofCase.CreateResults); } }
        public SubmitTasks SubmitTasks { get { return Get<SubmitTasks>(MessageOneofCase.SubmitTasks); } set { Set(value, MessageOneofCase.SubmitTasks); } }
        public Pong Pong { get { return Get<Pong>(MessageOneofCase.Pong); } set { Set(value, MessageOneofCase.Pong); } }
        public RequestBatch Batch { get { return Get<RequestBatch>(MessageOneofCase.Batch); } set { Set(value, MessageOneofCase.Batch); } }

        public void WriteTo(JsonWriter w)
        {
            w.BeginObject();
            switch (MessageCase)
            {
                case MessageOneofCase.Hello: w.Name("hello"); Hello.WriteTo(w); break;
                case MessageOneofCase.TaskCompleted: w.Name("taskCompleted"); TaskCompleted.WriteTo(w); break;
                case MessageOneofCase.TaskFailed: w.Name("taskFailed"); TaskFailed.WriteTo(w); break;
                case MessageOneofCase.TaskProgress: w.Name("taskProgress"); TaskProgress.WriteTo(w); break;
                case MessageOneofCase.CreateResults: w.Name("createResults"); CreateResults.WriteTo(w); break;
                case MessageOneofCase.SubmitTasks: w.Name("submitTasks"); SubmitTasks.WriteTo(w); break;
                case MessageOneofCase.Pong: w.Name("pong"); Pong.WriteTo(w); break;
                case MessageOneofCase.Batch: w.Name("batch"); Batch.WriteTo(w); break;
            }
            w.EndObject();
        }

        /// <summary>The compact proto3-JSON text (one line: JSON strings escape newlines).</summary>
        public string ToJson()
        {
            var w = new JsonWriter();
            WriteTo(w);
            return w.ToString();
        }

        public static ConnectRequest Parse(string json) { return FromJson(JsonReader.Parse(json), "ConnectRequest"); }

        public static ConnectRequest FromJson(JsonValue v, string field)
        {
            var m = new ConnectRequest();
            int oneof = 0;
            foreach (var f in ProtoJson.Members(v, field))
            {
                if (f.Value.IsNull) continue;
                switch (f.Key)
                {
                    case "hello":
                        ProtoJson.Oneof(ref oneof, 1, field, "message");
                        m.Hello = Hello.FromJson(f.Value, field + ".hello");
                        break;
                    case "taskCompleted":
                    case "task_completed":
                        ProtoJson.Oneof(ref oneof, 2, field, "message");
                        m.TaskCompleted = TaskCompleted.FromJson(f.Value, field + ".taskCompleted");
                        break;
                    case "taskFailed":
                    case "task_failed":
                        ProtoJson.Oneof(ref oneof, 3, field, "message");
                        m.TaskFailed = TaskFailed.FromJson(f.Value, field + ".taskFailed");
                        break;
                    case "taskProgress":
                    case "task_progress":
                        ProtoJson.Oneof(ref oneof, 4, field, "message");
                        m.TaskProgress = TaskProgress.FromJson(f.Value, field + ".taskProgress");
                        break;
                    case "createResults":
                    case "create_results":
                        ProtoJson.Oneof(ref oneof, 5, field, "message");
                        m.CreateResults = CreateResults.FromJson(f.Value, field + ".createResults");
                        break;
                    case "submitTasks":
                    case "submit_tasks":
                        ProtoJson.Oneof(ref oneof, 6, field, "message");
                        m.SubmitTasks = SubmitTasks.FromJson(f.Value, field + ".submitTasks");
                        break;
                    case "pong":
                        ProtoJson.Oneof(ref oneof, 7, field, "message");
                        m.Pong = Pong.FromJson(f.Value, field + ".pong");
                        break;
                    case "batch":
                        ProtoJson.Oneof(ref oneof, 8, field, "message");
                        m.Batch = RequestBatch.FromJson(f.Value, field + ".batch");
                        break;
                }
            }
            return m;
        }
    }

    /// <summary>
    /// chorus.worker.v1.ConnectResponse: one message from the agent to the worker (on the worker's stdin
    /// in the stdio transport). Exactly one of its fields is set; setting one clears the others.
    /// </summary>
    public sealed class ConnectResponse
    {
        public enum MessageOneofCase { None = 0, Welcome = 1, AssignTask = 2, CancelTask = 3, Drain = 4, CreateResultsReply = 5, SubmitTasksReply = 6, Ping = 7, Batch = 8 }

        object message;

        public MessageOneofCase MessageCase { get; private set; }

        T Get<T>(MessageOneofCase c) where T : class { return MessageCase == c ? (T)message : null; }

        void Set(object value, MessageOneofCase c)
        {
            message = value;
            MessageCase = value == null ? MessageOneofCase.None : c;
        }

        public Welcome Welcome { get { return Get<Welcome>(MessageOneofCase.Welcome); } set { Set(value, MessageOneofCase.Welcome); } }
        public AssignTask AssignTask { get { return Get<AssignTask>(MessageOneofCase.AssignTask); } set { Set(value, MessageOneofCase.AssignTask); } }
        public CancelTask CancelTask { get { return Get<CancelTask>(MessageOneofCase.CancelTask); } set { Set(value, MessageOneofCase.CancelTask); } }
        public Drain Drain { get { return Get<Drain>(MessageOneofCase.Drain); } set { Set(value, MessageOneofCase.Drain); } }
        public CreateResultsReply CreateResultsReply { get { return Get<CreateResultsReply>(MessageOneofCase.CreateResultsReply); } set { Set(value, MessageOneofCase.CreateResultsReply); } }
        public SubmitTasksReply SubmitTasksReply { get { return Get<SubmitTasksReply>(MessageOneofCase.SubmitTasksReply); } set { Set(value, MessageOneofCase.SubmitTasksReply); } }
        public Ping Ping { get { return Get<Ping>(MessageOneofCase.Ping); } set { Set(value, MessageOneofCase.Ping); } }
        public ResponseBatch Batch { get { return Get<ResponseBatch>(MessageOneofCase.Batch); } set { Set(value, MessageOneofCase.Batch); } }

        public void WriteTo(JsonWriter w)
        {
            w.BeginObject();
            switch (MessageCase)
            {
                case MessageOneofCase.Welcome: w.Name("welcome"); Welcome.WriteTo(w); break;
                case MessageOneofCase.AssignTask: w.Name("assignTask"); AssignTask.WriteTo(w); break;
                case MessageOneofCase.CancelTask: w.Name("cancelTask"); CancelTask.WriteTo(w); break;
                case MessageOneofCase.Drain: w.Name("drain"); Drain.WriteTo(w); break;
                case MessageOneofCase.CreateResultsReply: w.Name("createResultsReply"); CreateResultsReply.WriteTo(w); break;
                case MessageOneofCase.SubmitTasksReply: w.Name("submitTasksReply"); SubmitTasksReply.WriteTo(w); break;
                case MessageOneofCase.Ping: w.Name("ping"); Ping.WriteTo(w); break;
                case MessageOneofCase.Batch: w.Name("batch"); Batch.WriteTo(w); break;
            }
            w.EndObject();
        }

        /// <summary>The compact proto3-JSON text (one line: JSON strings escape newlines).</summary>
        public string ToJson()
        {
            var w = new JsonWriter();
            WriteTo(w);
            return w.ToString();
        }

        public static ConnectResponse Parse(string json) { return FromJson(JsonReader.Parse(json), "ConnectResponse"); }

        public static ConnectResponse FromJson(JsonValue v, string field)
        {
            var m = new ConnectResponse();
            int oneof = 0;
            foreach (var f in ProtoJson.Members(v, field))
            {
                if (f.Value.IsNull) continue;
                switch (f.Key)
                {
                    case "welcome":
                        ProtoJson.Oneof(ref oneof, 1, field, "message");
                        m.Welcome = Welcome.FromJson(f.Value, field + ".welcome");
                        break;
                    case "assignTask":
                    case "assign_task":
                        ProtoJson.Oneof(ref oneof, 2, field, "message");
                        m.AssignTask = AssignTask.FromJson(f.Value, field + ".assignTask");
                        break;
                    case "cancelTask":
                    case "cancel_task":
                        ProtoJson.Oneof(ref oneof, 3, field, "message");
                        m.CancelTask = CancelTask.FromJson(f.Value, field + ".cancelTask");
                        break;
                    case "drain":
                        ProtoJson.Oneof(ref oneof, 4, field, "message");
                        m.Drain = Drain.FromJson(f.Value, field + ".drain");
                        break;
                    case "createResultsReply":
                    case "create_results_reply":
                        ProtoJson.Oneof(ref oneof, 5, field, "message");
                        m.CreateResultsReply = CreateResultsReply.FromJson(f.Value, field + ".createResultsReply");
                        break;
                    case "submitTasksReply":
                    case "submit_tasks_reply":
                        ProtoJson.Oneof(ref oneof, 6, field, "message");
                        m.SubmitTasksReply = SubmitTasksReply.FromJson(f.Value, field + ".submitTasksReply");
                        break;
                    case "ping":
                        ProtoJson.Oneof(ref oneof, 7, field, "message");
                        m.Ping = Ping.FromJson(f.Value, field + ".ping");
                        break;
                    case "batch":
                        ProtoJson.Oneof(ref oneof, 8, field, "message");
                        m.Batch = ResponseBatch.FromJson(f.Value, field + ".batch");
                        break;
                }
            }
            return m;
        }
    }

    /// <summary>
    /// What RequestBatch and ResponseBatch share: several messages of one direction in one, read in order as if sent
    /// one by one. The two differ only in the envelope they hold (T).
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

    /// <summary>
    /// chorus.worker.v1.RequestBatch: several worker messages in one, read in order as if sent one by one. It holds
    /// no Hello and no nested batch; a sender batches what it has ready and never waits to fill a batch.
    /// </summary>
    public sealed class RequestBatch : MessageBatch<ConnectRequest>
    {
        protected override void Write(ConnectRequest message, JsonWriter w) { message.WriteTo(w); }

        public static RequestBatch FromJson(JsonValue v, string field) { return Read<RequestBatch>(v, field, ConnectRequest.FromJson); }
    }

    /// <summary>
    /// chorus.worker.v1.ResponseBatch: several agent messages in one, read in order as if sent one by one. It holds
    /// no Welcome and no nested batch; a sender batches what it has ready and never waits to fill a batch.
    /// </summary>
    public sealed class ResponseBatch : MessageBatch<ConnectResponse>
    {
        protected override void Write(ConnectResponse message, JsonWriter w) { message.WriteTo(w); }

        public static ResponseBatch FromJson(JsonValue v, string field) { return Read<ResponseBatch>(v, field, ConnectResponse.FromJson); }
    }
}
