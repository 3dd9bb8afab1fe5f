using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Text;
using System.Threading;
using Chorus.Worker.Protocol;

namespace Chorus.Worker.Tests
{
    /// <summary>
    /// The example worker as a real child process (`mono chorus-worker-csharp.exe`), driven the way the
    /// agent drives it: ConnectResponse lines on its stdin, ConnectRequest lines read from its stdout.
    /// </summary>
    public sealed class WorkerProcess : IDisposable
    {
        /// <summary>Guard against a hung worker: how long to wait for a message before the test fails.</summary>
        static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(60);

        readonly Process proc;
        readonly StdioChannel channel;
        readonly BlockingCollection<string> lines = new BlockingCollection<string>();
        readonly StringBuilder stderr = new StringBuilder();
        readonly Queue<ConnectRequest> unpacked = new Queue<ConnectRequest>();
        public readonly string Dir;

        public WorkerProcess(int capacity = 1, string token = "test-token", bool welcome = true, long inlineLimit = 65536, string exe = null,
            bool acceptsBatches = false)
        {
            Dir = Path.Combine(Path.GetTempPath(), "chorus-csharp-test-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(Dir);
            exe = exe ?? WorkerExe();
            // An .exe built by mcs runs on mono, a .dll built by the .NET SDK on dotnet.
            string host = exe.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) ? "dotnet" : "mono";
            var psi = new ProcessStartInfo(host, "\"" + exe + "\"")
            {
                UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
                WorkingDirectory = Dir,
            };
            psi.EnvironmentVariables["CHORUS_WORKER_TOKEN"] = token;
            psi.EnvironmentVariables["CHORUS_WORKER_CAPACITY"] = capacity.ToString();
            psi.EnvironmentVariables.Remove("CHORUS_AGENT_SOCKET");
            proc = Process.Start(psi);
            proc.ErrorDataReceived += (s, e) => { if (e.Data != null) lock (stderr) stderr.AppendLine(e.Data); };
            proc.BeginErrorReadLine();
            channel = new StdioChannel(proc.StandardOutput.BaseStream, proc.StandardInput.BaseStream);
            var reader = new Thread(() =>
            {
                try
                {
                    string line;
                    while ((line = channel.ReadLine()) != null) lines.Add(line);
                }
                catch (Exception) { }
                lines.CompleteAdding();
            }) { IsBackground = true };
            reader.Start();
            if (welcome)
            {
                Hello = Next().Hello;
                if (Hello == null) throw new AssertionException("the worker's first message is not Hello");
                Send(new ConnectResponse { Welcome = new Welcome { AgentId = "test-agent", WorkerId = "w1", WorkDir = Dir, InlineLimitBytes = inlineLimit, AcceptsBatches = acceptsBatches } });
            }
        }

        public Hello Hello { get; private set; }
        public int Pid { get { return proc.Id; } }

        public string Stderr { get { lock (stderr) return stderr.ToString(); } }

        /// <summary>The built example worker: $CHORUS_CSHARP_WORKER, else found above this test assembly.</summary>
        public static string WorkerExe()
        {
            string env = Environment.GetEnvironmentVariable("CHORUS_CSHARP_WORKER");
            if (!string.IsNullOrEmpty(env)) return Path.GetFullPath(env);
            var dir = new DirectoryInfo(AppDomain.CurrentDomain.BaseDirectory);
            for (; dir != null; dir = dir.Parent)
            {
                string p = Path.Combine(dir.FullName, "workers", "csharp", "build", "chorus-worker-csharp.exe");
                if (File.Exists(p)) return p;
            }
            throw new AssertionException("cannot find the example worker: build it (make csharp-build) or set CHORUS_CSHARP_WORKER");
        }

        public void Send(ConnectResponse m) { channel.WriteLine(m.ToJson()); }

        public void SendRaw(string jsonLine) { channel.WriteLine(jsonLine); }

        /// <summary>The next raw line the worker wrote on stdout.</summary>
        public string NextLine()
        {
            string line;
            if (!lines.TryTake(out line, HangGuard))
                throw new AssertionException(lines.IsCompleted ? "the worker closed its stdout; stderr:\n" + Stderr
                    : "the worker sent nothing for " + HangGuard.TotalSeconds + "s; stderr:\n" + Stderr);
            return line;
        }

        /// <summary>The worker's next message other than a progress report (the example worker's sleep
        /// reports progress half way; these tests look at outcomes and calls). A batch line is read as
        /// its messages one by one.</summary>
        public ConnectRequest Next()
        {
            for (;;)
            {
                ConnectRequest m;
                if (unpacked.Count > 0) m = unpacked.Dequeue();
                else
                {
                    m = ConnectRequest.Parse(NextLine());
                    if (m.Batch != null)
                    {
                        BatchLines++;
                        foreach (var inner in m.Batch.Messages)
                        {
                            if (inner.MessageCase == ConnectRequest.MessageOneofCase.Hello || inner.Batch != null)
                                throw new AssertionException("a batch holds no Hello and no batch: " + m.ToJson());
                            unpacked.Enqueue(inner);
                        }
                        continue;
                    }
                }
                if (m.TaskProgress == null) return m;
            }
        }

        /// <summary>Batch lines Next has read so far.</summary>
        public int BatchLines { get; private set; }

        /// <summary>Assigns a task with one expected output "out-&lt;id&gt;".</summary>
        public AssignTask Assign(string id, string method, byte[] payload, Action<AssignTask> edit = null)
        {
            string outDir = Path.Combine(Dir, "out-" + id);
            Directory.CreateDirectory(outDir);
            var a = new AssignTask { SessionId = "s1", TaskId = id, Method = method, Payload = Data.FromBytes(payload), Attempt = 1,
                ExpectedOutputIds = { "out-" + id }, OutputDir = outDir, Partition = "default", Traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" };
            if (edit != null) edit(a);
            Send(new ConnectResponse { AssignTask = a });
            return a;
        }

        public void CloseStdin() { proc.StandardInput.BaseStream.Close(); }

        /// <summary>Waits for the process to exit and returns its exit code.</summary>
        public int WaitExit()
        {
            if (!proc.WaitForExit((int)HangGuard.TotalMilliseconds))
                throw new AssertionException("the worker did not exit; stderr:\n" + Stderr);
            proc.WaitForExit();
            return proc.ExitCode;
        }

        public void Dispose()
        {
            try { if (!proc.HasExited) proc.Kill(); } catch (Exception) { }
            proc.WaitForExit(10000);
            proc.Dispose();
            try { Directory.Delete(Dir, true); } catch (Exception) { }
        }
    }
}
