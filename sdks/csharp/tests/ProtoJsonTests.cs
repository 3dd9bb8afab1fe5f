using System;
using System.Collections.Generic;
using System.Text;
using Chorus.Worker.Json;
using Chorus.Worker.Protocol;

namespace Chorus.Worker.Tests
{
    public static class ProtoJsonTests
    {
        static byte[] B(string s) { return Encoding.UTF8.GetBytes(s); }

        static ConnectRequest Req(string json) { return ConnectRequest.Parse(json); }

        static ConnectResponse Resp(string json) { return ConnectResponse.Parse(json); }

        // Every request: exact canonical text, and parse(text) writes the same text again.
        [Test]
        public static void RequestsHaveTheirCanonicalForm()
        {
            var cases = new List<KeyValuePair<ConnectRequest, string>>
            {
                P(new ConnectRequest { Hello = new Hello { Token = "t", Language = "csharp", SdkVersion = "0.1.0", Methods = { "echo", "sha256" }, Capacity = 4, Pid = 77 } },
                  "{\"hello\":{\"token\":\"t\",\"language\":\"csharp\",\"sdkVersion\":\"0.1.0\",\"methods\":[\"echo\",\"sha256\"],\"capacity\":4,\"pid\":77}}"),
                P(new ConnectRequest { TaskCompleted = new TaskCompleted { TaskId = "k", Outputs = {
                    new Output { ResultId = "r1", Data = Data.FromBytes(B("hi\n")) },
                    new Output { ResultId = "r2", Data = Data.FromPath("/w/out/o1") },
                    new Output { ResultId = "r3", Data = Data.FromBytes(new byte[0]) } } } },
                  "{\"taskCompleted\":{\"taskId\":\"k\",\"outputs\":[{\"resultId\":\"r1\",\"data\":{\"inline\":\"aGkK\"}},{\"resultId\":\"r2\",\"data\":{\"path\":\"/w/out/o1\"}},{\"resultId\":\"r3\",\"data\":{\"inline\":\"\"}}]}}"),
                P(new ConnectRequest { TaskCompleted = new TaskCompleted { TaskId = "k" } }, "{\"taskCompleted\":{\"taskId\":\"k\"}}"),
                P(new ConnectRequest { TaskFailed = new TaskFailed { TaskId = "k", Message = "bad \"x\"\n", Retryable = true } },
                  "{\"taskFailed\":{\"taskId\":\"k\",\"message\":\"bad \\\"x\\\"\\n\",\"retryable\":true}}"),
                P(new ConnectRequest { TaskFailed = new TaskFailed { TaskId = "k", Message = "m" } }, "{\"taskFailed\":{\"taskId\":\"k\",\"message\":\"m\"}}"),
                P(new ConnectRequest { TaskProgress = new TaskProgress { TaskId = "k", Fraction = 0.25, Message = "a quarter" } },
                  "{\"taskProgress\":{\"taskId\":\"k\",\"fraction\":0.25,\"message\":\"a quarter\"}}"),
                P(new ConnectRequest { TaskProgress = new TaskProgress { TaskId = "k", Fraction = double.NaN } }, "{\"taskProgress\":{\"taskId\":\"k\",\"fraction\":\"NaN\"}}"),
                P(new ConnectRequest { CreateResults = new CreateResults { CallId = "1", TaskId = "k", Results = { new NewResult(), new NewResult { ResultId = "mine", Data = Data.FromBytes(B("d")) } } } },
                  "{\"createResults\":{\"callId\":\"1\",\"taskId\":\"k\",\"results\":[{},{\"resultId\":\"mine\",\"data\":{\"inline\":\"ZA==\"}}]}}"),
                P(new ConnectRequest { SubmitTasks = new SubmitTasks { CallId = "2", TaskId = "k", Tasks = {
                    new Subtask { Method = "sha256", Payload = Data.FromBytes(B("0")), ExpectedOutputIds = { "a" } },
                    new Subtask { Method = "concat", DataDependencies = { "a", "b" }, ExpectedOutputIds = { "out" }, Options = new SubtaskOptions {
                        Partition = "p", Priority = 0, MaxRetries = 3, MaxDuration = new ProtoDuration(1, 500000000), Options = { { "k", "v" } } } } } } },
                  "{\"submitTasks\":{\"callId\":\"2\",\"taskId\":\"k\",\"tasks\":[{\"method\":\"sha256\",\"payload\":{\"inline\":\"MA==\"},\"expectedOutputIds\":[\"a\"]}," +
                  "{\"method\":\"concat\",\"dataDependencies\":[\"a\",\"b\"],\"expectedOutputIds\":[\"out\"],\"options\":{\"partition\":\"p\",\"priority\":0,\"maxRetries\":3,\"maxDuration\":\"1.500s\",\"options\":{\"k\":\"v\"}}}]}}"),
                P(new ConnectRequest { Pong = new Pong { Nonce = 9007199254740993 } }, "{\"pong\":{\"nonce\":\"9007199254740993\"}}"),
                P(new ConnectRequest { Pong = new Pong() }, "{\"pong\":{}}"),
            };
            foreach (var c in cases)
            {
                Assert.Equal(c.Value, c.Key.ToJson(), c.Key.MessageCase + " canonical text");
                Assert.Equal(c.Value, Req(c.Value).ToJson(), c.Key.MessageCase + " parsed and written again");
            }
        }

        [Test]
        public static void ResponsesHaveTheirCanonicalForm()
        {
            var cases = new List<KeyValuePair<ConnectResponse, string>>
            {
                P(new ConnectResponse { Welcome = new Welcome { AgentId = "a", WorkerId = "w", WorkDir = "/d", InlineLimitBytes = 65536 } },
                  "{\"welcome\":{\"agentId\":\"a\",\"workerId\":\"w\",\"workDir\":\"/d\",\"inlineLimitBytes\":\"65536\"}}"),
                P(new ConnectResponse { AssignTask = new AssignTask {
                    SessionId = "s", TaskId = "t", Method = "m", Payload = Data.FromBytes(new byte[] { 0, 255, 1 }),
                    Inputs = { new Input { ResultId = "i1", Data = Data.FromPath("/d/in") } }, ExpectedOutputIds = { "o1", "o2" },
                    Options = { { "x", "y" } }, MaxDuration = new ProtoDuration(5, 0), Attempt = 2, Traceparent = "00-aa-bb-01", Tracestate = "k=v",
                    OutputDir = "/d/out", Partition = "default" } },
                  "{\"assignTask\":{\"sessionId\":\"s\",\"taskId\":\"t\",\"method\":\"m\",\"payload\":{\"inline\":\"AP8B\"},\"inputs\":[{\"resultId\":\"i1\",\"data\":{\"path\":\"/d/in\"}}]," +
                  "\"expectedOutputIds\":[\"o1\",\"o2\"],\"options\":{\"x\":\"y\"},\"maxDuration\":\"5s\",\"attempt\":2,\"traceparent\":\"00-aa-bb-01\",\"tracestate\":\"k=v\",\"outputDir\":\"/d/out\",\"partition\":\"default\"}}"),
                P(new ConnectResponse { CancelTask = new CancelTask { TaskId = "t", Reason = "cancelled by the client" } }, "{\"cancelTask\":{\"taskId\":\"t\",\"reason\":\"cancelled by the client\"}}"),
                P(new ConnectResponse { Drain = new Drain { Grace = new ProtoDuration(30, 0) } }, "{\"drain\":{\"grace\":\"30s\"}}"),
                P(new ConnectResponse { Drain = new Drain() }, "{\"drain\":{}}"),
                P(new ConnectResponse { CreateResultsReply = new CreateResultsReply { CallId = "1", ResultIds = { "a", "b" } } }, "{\"createResultsReply\":{\"callId\":\"1\",\"resultIds\":[\"a\",\"b\"]}}"),
                P(new ConnectResponse { CreateResultsReply = new CreateResultsReply { CallId = "1", Error = "no" } }, "{\"createResultsReply\":{\"callId\":\"1\",\"error\":\"no\"}}"),
                P(new ConnectResponse { SubmitTasksReply = new SubmitTasksReply { CallId = "2", TaskIds = { "x" } } }, "{\"submitTasksReply\":{\"callId\":\"2\",\"taskIds\":[\"x\"]}}"),
                P(new ConnectResponse { Ping = new Ping { Nonce = -3 } }, "{\"ping\":{\"nonce\":\"-3\"}}"),
            };
            foreach (var c in cases)
            {
                Assert.Equal(c.Value, c.Key.ToJson(), c.Key.MessageCase + " canonical text");
                Assert.Equal(c.Value, Resp(c.Value).ToJson(), c.Key.MessageCase + " parsed and written again");
            }
        }

        static KeyValuePair<T, string> P<T>(T m, string json) { return new KeyValuePair<T, string>(m, json); }

        [Test]
        public static void AssignTaskReadsEveryField()
        {
            var a = Resp("{\"assignTask\":{\"sessionId\":\"s\",\"taskId\":\"t\",\"method\":\"m\",\"payload\":{\"inline\":\"AP8B\"},\"inputs\":[{\"resultId\":\"i1\",\"data\":{\"path\":\"/d/in\"}}]," +
                "\"expectedOutputIds\":[\"o1\"],\"options\":{\"x\":\"y\"},\"maxDuration\":\"0.250s\",\"attempt\":2,\"traceparent\":\"tp\",\"tracestate\":\"ts\",\"outputDir\":\"/d/out\",\"partition\":\"p\"}}").AssignTask;
            Assert.Equal("s", a.SessionId, "sessionId");
            Assert.Equal("t", a.TaskId, "taskId");
            Assert.Equal("m", a.Method, "method");
            Assert.Bytes(new byte[] { 0, 255, 1 }, a.Payload.Inline, "payload");
            Assert.Equal("/d/in", a.Inputs[0].Data.Path, "input path");
            Assert.Equal(Data.SourceOneofCase.Path, a.Inputs[0].Data.SourceCase, "input source");
            Assert.Seq(new[] { "o1" }, a.ExpectedOutputIds, "expectedOutputIds");
            Assert.Equal("y", a.Options["x"], "options");
            Assert.Equal(TimeSpan.FromMilliseconds(250), a.MaxDuration.Value.ToTimeSpan(), "maxDuration");
            Assert.Equal(2, a.Attempt, "attempt");
            Assert.Equal("tp", a.Traceparent, "traceparent");
            Assert.Equal("ts", a.Tracestate, "tracestate");
            Assert.Equal("/d/out", a.OutputDir, "outputDir");
            Assert.Equal("p", a.Partition, "partition");
        }

        [Test]
        public static void AcceptsOriginalFieldNamesAndIgnoresUnknownFields()
        {
            var a = Resp("{\"assign_task\":{\"session_id\":\"s\",\"task_id\":\"t\",\"expected_output_ids\":[\"o\"],\"max_duration\":\"2s\",\"output_dir\":\"/o\"," +
                "\"future_field\":{\"deep\":[1,{\"x\":null}]},\"alsoNew\":12}, \"another\": true}").AssignTask;
            Assert.Equal("s", a.SessionId, "session_id");
            Assert.Equal("t", a.TaskId, "task_id");
            Assert.Seq(new[] { "o" }, a.ExpectedOutputIds, "expected_output_ids");
            Assert.Equal(2L, a.MaxDuration.Value.Seconds, "max_duration");
            Assert.Equal("/o", a.OutputDir, "output_dir");
            var w = Resp("{\"welcome\":{\"agent_id\":\"a\",\"worker_id\":\"w\",\"work_dir\":\"/d\",\"inline_limit_bytes\":1024}}").Welcome;
            Assert.Equal("a", w.AgentId, "agent_id");
            Assert.Equal(1024L, w.InlineLimitBytes, "inline_limit_bytes as a number");
            var r = Resp("{\"create_results_reply\":{\"call_id\":\"7\",\"result_ids\":[\"x\"]}}").CreateResultsReply;
            Assert.Equal("7", r.CallId, "call_id");
            Assert.Seq(new[] { "x" }, r.ResultIds, "result_ids");
            var s = Resp("{\"submit_tasks_reply\":{\"call_id\":\"8\",\"task_ids\":[\"y\"],\"error\":\"\"}}").SubmitTasksReply;
            Assert.Seq(new[] { "y" }, s.TaskIds, "task_ids");
            var h = Req("{\"hello\":{\"sdk_version\":\"1\",\"capacity\":\"3\"}}").Hello;
            Assert.Equal("1", h.SdkVersion, "sdk_version");
            Assert.Equal(3, h.Capacity, "int32 given as a string");
            var sub = Req("{\"submit_tasks\":{\"tasks\":[{\"data_dependencies\":[\"d\"],\"options\":{\"max_retries\":2,\"max_duration\":\"1s\"}}]}}").SubmitTasks;
            Assert.Seq(new[] { "d" }, sub.Tasks[0].DataDependencies, "data_dependencies");
            Assert.Equal(2, sub.Tasks[0].Options.MaxRetries.Value, "max_retries");
            Assert.Equal(Data.SourceOneofCase.None, new Data().SourceCase, "empty Data");
            Assert.Equal(ConnectResponse.MessageOneofCase.None, Resp("{\"somethingNew\":{}}").MessageCase, "an unknown message is no message");
        }

        [Test]
        public static void NullMeansNotSet()
        {
            var a = Resp("{\"assignTask\":{\"taskId\":null,\"payload\":null,\"inputs\":null,\"maxDuration\":null,\"attempt\":null}}").AssignTask;
            Assert.Equal("", a.TaskId, "null string");
            Assert.Equal(null, a.Payload, "null message");
            Assert.Equal(0, a.Inputs.Count, "null list");
            Assert.True(!a.MaxDuration.HasValue, "null duration");
            var r = Resp("{\"ping\":null,\"drain\":{}}");
            Assert.Equal(ConnectResponse.MessageOneofCase.Drain, r.MessageCase, "a null oneof member is not set");
        }

        [Test]
        public static void ReadsScalarsInEveryAcceptedForm()
        {
            Assert.Equal(42L, Resp("{\"ping\":{\"nonce\":42}}").Ping.Nonce, "int64 as a number");
            Assert.Equal(long.MaxValue, Resp("{\"ping\":{\"nonce\":\"9223372036854775807\"}}").Ping.Nonce, "int64 max as a string");
            Assert.Equal(-5L, Resp("{\"ping\":{\"nonce\":\"-5\"}}").Ping.Nonce, "negative int64 string");
            Assert.Equal(100L, Resp("{\"ping\":{\"nonce\":1e2}}").Ping.Nonce, "int64 in exponent form");
            Assert.Equal(double.PositiveInfinity, Req("{\"taskProgress\":{\"fraction\":\"Infinity\"}}").TaskProgress.Fraction, "Infinity");
            Assert.Equal(double.NegativeInfinity, Req("{\"taskProgress\":{\"fraction\":\"-Infinity\"}}").TaskProgress.Fraction, "-Infinity");
            Assert.Equal(0.5, Req("{\"taskProgress\":{\"fraction\":\"0.5\"}}").TaskProgress.Fraction, "double as a string");
            Assert.Bytes(new byte[] { 0xfb, 0xff }, Resp("{\"assignTask\":{\"payload\":{\"inline\":\"-_8\"}}}").AssignTask.Payload.Inline, "URL-safe base64 without padding");
            Assert.Bytes(new byte[] { 0xfb, 0xff }, Resp("{\"assignTask\":{\"payload\":{\"inline\":\"+/8=\"}}}").AssignTask.Payload.Inline, "standard base64 with padding");
            Assert.Bytes(B("abcd"), Resp("{\"assignTask\":{\"payload\":{\"inline\":\"YWJjZA\"}}}").AssignTask.Payload.Inline, "base64 without padding");
            Assert.True(Req("{\"taskFailed\":{\"retryable\":true}}").TaskFailed.Retryable, "bool");
        }

        [Test]
        public static void RejectsValuesOfTheWrongShape()
        {
            var bad = new Dictionary<string, string>
            {
                { "{\"ping\":{\"nonce\":1.5}}", "ConnectResponse.ping.nonce must be a 64-bit integer" },
                { "{\"ping\":{\"nonce\":\"12x\"}}", "64-bit integer" },
                { "{\"ping\":{\"nonce\":\"99999999999999999999\"}}", "64-bit integer" },
                { "{\"assignTask\":{\"attempt\":2147483648}}", "ConnectResponse.assignTask.attempt must be a 32-bit integer" },
                { "{\"assignTask\":{\"taskId\":5}}", "ConnectResponse.assignTask.taskId must be a string, got number \"5\"" },
                { "{\"assignTask\":{\"payload\":{\"inline\":\"a\"}}}", "base64" },
                { "{\"assignTask\":{\"payload\":{\"inline\":\"YW*j\"}}}", "base64" },
                { "{\"assignTask\":{\"payload\":{\"inline\":\"YQ\",\"path\":\"/x\"}}}", "more than one field of its oneof source" },
                { "{\"assignTask\":{\"maxDuration\":\"5\"}}", "duration" },
                { "{\"assignTask\":{\"maxDuration\":\"1.0000000001s\"}}", "duration" },
                { "{\"assignTask\":{\"maxDuration\":\"315576000001s\"}}", "duration" },
                { "{\"assignTask\":{\"maxDuration\":5}}", "duration" },
                { "{\"assignTask\":{\"expectedOutputIds\":\"o\"}}", "must be an array" },
                { "{\"assignTask\":{\"expectedOutputIds\":[\"o\",null]}}", "expectedOutputIds[1] is null" },
                { "{\"assignTask\":{\"options\":{\"a\":1}}}", "must be a string" },
                { "{\"assignTask\":{\"taskId\":\"a\",\"task_id\":\"b\"}}", "task_id is given more than once" },
                { "{\"assignTask\":{},\"ping\":{}}", "more than one field of its oneof message" },
                { "{\"drain\":{\"grace\":true}}", "duration" },
                { "[]", "ConnectResponse must be a JSON object, got array" },
                { "{\"assignTask\":\"x\"}", "must be a JSON object" },
            };
            foreach (var kv in bad)
            {
                var e = Assert.Throws<JsonException>(() => Resp(kv.Key), "invalid " + kv.Key);
                Assert.Contains(kv.Value, e.Message, "error for " + kv.Key);
            }
            Assert.Throws<JsonException>(() => Req("{\"taskFailed\":{\"retryable\":\"true\"}}"), "bool as a string");
            Assert.Throws<JsonException>(() => Req("{\"hello\":{\"capacity\":\" 1\"}}"), "int32 string with a space");
        }

        [Test]
        public static void DurationsFormatCanonically()
        {
            var cases = new Dictionary<string, ProtoDuration>
            {
                { "0s", new ProtoDuration(0, 0) }, { "1s", new ProtoDuration(1, 0) }, { "1.500s", new ProtoDuration(1, 500000000) },
                { "0.000001s", new ProtoDuration(0, 1000) }, { "0.000000001s", new ProtoDuration(0, 1) }, { "-0.250s", new ProtoDuration(0, -250000000) },
                { "-3.000000100s", new ProtoDuration(-3, -100) }, { "315576000000s", new ProtoDuration(ProtoDuration.MaxSeconds, 0) },
            };
            foreach (var kv in cases)
            {
                Assert.Equal(kv.Key, kv.Value.ToString(), "format");
                ProtoDuration d;
                Assert.True(ProtoDuration.TryParse(kv.Key, out d) && d.Equals(kv.Value), "parse " + kv.Key);
            }
            ProtoDuration p;
            Assert.True(ProtoDuration.TryParse("1.5s", out p) && p.Equals(new ProtoDuration(1, 500000000)), "short fraction");
            foreach (var s in new[] { "", "s", "1", "1.s", ".5s", "1.5", "--1s", "1e3s", "+1s", "1 s" })
                Assert.True(!ProtoDuration.TryParse(s, out p), "invalid duration \"" + s + "\"");
            Assert.Equal(TimeSpan.FromSeconds(-1.5), ProtoDuration.FromTimeSpan(TimeSpan.FromSeconds(-1.5)).ToTimeSpan(), "TimeSpan round trip");
        }

        [Test]
        public static void OneofSettersClearTheOtherFields()
        {
            var d = Data.FromBytes(B("x"));
            d.Path = "/p";
            Assert.Equal(null, d.Inline, "inline cleared by path");
            Assert.Equal(Data.SourceOneofCase.Path, d.SourceCase, "case follows the last setter");
            var r = new ConnectRequest { Pong = new Pong() };
            r.Hello = new Hello();
            Assert.Equal(null, r.Pong, "pong cleared by hello");
            Assert.Equal(ConnectRequest.MessageOneofCase.Hello, r.MessageCase, "message case");
        }
    }
}
