using System;
using System.IO;
using System.Text;
using Chorus.Worker.Protocol;

namespace Chorus.Worker.Tests
{
    /// <summary>The code block of sdks/csharp/README.md, compiled as a program (make csharp-build), run over stdio.</summary>
    public static class ReadmeTests
    {
        static string ReadmeExe()
        {
            string env = Environment.GetEnvironmentVariable("CHORUS_CSHARP_README_WORKER");
            if (string.IsNullOrEmpty(env) || !File.Exists(env))
                throw new AssertionException("the README example is not built: run make csharp-build (CHORUS_CSHARP_README_WORKER=" + env + ")");
            return Path.GetFullPath(env);
        }

        [Test]
        public static void ReadmeExampleServesItsMethods()
        {
            using (var w = new WorkerProcess(capacity: 2, exe: ReadmeExe()))
            {
                Assert.Seq(new[] { "echo", "fail", "flaky" }, w.Hello.Methods, "methods of the README example");
                Assert.Equal(2, w.Hello.Capacity, "capacity from CHORUS_WORKER_CAPACITY");
                w.Assign("e1", "echo", Encoding.UTF8.GetBytes("hello"));
                var m = w.Next();
                Assert.Equal(ConnectRequest.MessageOneofCase.TaskCompleted, m.MessageCase, "echo completes");
                Assert.Bytes(Encoding.UTF8.GetBytes("hello"), m.TaskCompleted.Outputs[0].Data.Inline, "echo's output");
                w.Assign("f1", "fail", Encoding.UTF8.GetBytes("out of coffee"));
                m = w.Next();
                Assert.Equal(ConnectRequest.MessageOneofCase.TaskFailed, m.MessageCase, "fail fails");
                Assert.Equal("out of coffee", m.TaskFailed.Message, "fail's message is its payload");
                Assert.True(!m.TaskFailed.Retryable, "a PermanentException is final");
                w.Assign("r1", "flaky", new byte[0]);
                m = w.Next();
                Assert.Equal(ConnectRequest.MessageOneofCase.TaskFailed, m.MessageCase, "flaky fails");
                Assert.True(m.TaskFailed.Retryable, "any other exception is retryable");
                w.Send(new ConnectResponse { Drain = new Drain { Grace = new ProtoDuration(5, 0) } });
                Assert.Equal(0, w.WaitExit(), "the README example leaves with 0 after a drain");
            }
        }
    }
}
