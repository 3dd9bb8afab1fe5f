using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Threading;
using Chorus.Worker.Json;
using Chorus.Worker.Protocol;

namespace Chorus.Worker
{
    /// <summary>
    /// The stdio transport: reads one ConnectResponse per line from the agent and writes one
    /// ConnectRequest per line to it. Writes are serialized, so each message is one whole line even when
    /// handlers on several threads report at once; what they report at once goes out in one write (one
    /// batch line when the agent accepts batches). Lines end with '\n' only; JSON escapes every newline
    /// inside strings, so a message never spans lines.
    /// </summary>
    public sealed class StdioChannel
    {
        /// <summary>Longest line accepted from the agent (the agent's own bound).</summary>
        public const int MaxLine = 64 << 20;

        static readonly UTF8Encoding Utf8 = new UTF8Encoding(false);

        readonly Stream input;
        readonly Stream output;
        readonly object writeLock = new object(); // held while bytes go out (WriteLine and the writer of SendAll)
        readonly object queueLock = new object(); // guards the fields below; waited on for writes to end
        bool writing; // a thread is writing what SendAll queued
        List<ConnectRequest> queued = new List<ConnectRequest>();
        List<ConnectRequest> spare = new List<ConnectRequest>();
        long queuedSeq, writtenSeq;
        string broken;
        volatile bool batches;
        long batchesWritten;
        byte[] buf = new byte[64 << 10];
        int start, end;
        byte[] outBuf = new byte[4096];

        public StdioChannel(Stream input, Stream output)
        {
            if (input == null) throw new ArgumentNullException("input");
            if (output == null) throw new ArgumentNullException("output");
            this.input = input;
            this.output = output;
        }

        /// <summary>The next non-empty line without its end of line, or null at end of input.</summary>
        public string ReadLine()
        {
            while (true)
            {
                int nl = Array.IndexOf(buf, (byte)'\n', start, end - start);
                if (nl >= 0)
                {
                    int len = nl - start;
                    if (len > 0 && buf[nl - 1] == '\r') len--;
                    string line = Utf8.GetString(buf, start, len);
                    start = nl + 1;
                    if (line.Length == 0) continue;
                    return line;
                }
                if (start > 0)
                {
                    Buffer.BlockCopy(buf, start, buf, 0, end - start);
                    end -= start;
                    start = 0;
                }
                if (end == buf.Length)
                {
                    if (buf.Length >= MaxLine) throw new IOException("the agent sent a line longer than " + MaxLine + " bytes");
                    Array.Resize(ref buf, Math.Min(MaxLine, buf.Length * 2));
                }
                int n = input.Read(buf, end, buf.Length - end);
                if (n <= 0)
                {
                    if (end > start)
                    {
                        string last = Utf8.GetString(buf, start, end - start);
                        start = end;
                        if (last.Trim().Length > 0) return last;
                    }
                    return null;
                }
                end += n;
            }
        }

        /// <summary>The next message from the agent, or null at end of input.</summary>
        public ConnectResponse Receive()
        {
            string line = ReadLine();
            if (line == null) return null;
            return ConnectResponse.Parse(line);
        }

        /// <summary>
        /// Sends ConnectRequest.batch (Welcome.accepts_batches): messages queued while another thread was
        /// writing go out as one batch line. Off until the agent's Welcome says it accepts batches.
        /// </summary>
        public bool Batches { get { return batches; } set { batches = value; } }

        /// <summary>Messages queued and not yet taken by a writer (for tests).</summary>
        public int Queued { get { lock (queueLock) return queued.Count; } }

        /// <summary>Writes written as one batch line so far.</summary>
        public long BatchesWritten { get { return Interlocked.Read(ref batchesWritten); } }

        /// <summary>
        /// Writes one message as one line and returns once it is flushed. Safe to call from any thread:
        /// see <see cref="SendAll"/>.
        /// </summary>
        public void Send(ConnectRequest m) { SendAll(new[] { m }); }

        /// <summary>
        /// Writes messages, in order, and returns once they are flushed. Safe to call from any thread. When
        /// no write is in progress, the caller becomes the writer: it writes everything queued at that
        /// moment in one write, and goes on while more was queued meanwhile. What other threads queue
        /// while a write is in progress goes out in the next write, as one batch line when
        /// <see cref="Batches"/> is on, else as one line per message; those threads just wait for it.
        /// Nobody waits to fill a batch: a lone message is written at once, unwrapped. Throws IOException
        /// when the output is broken.
        /// </summary>
        public void SendAll(IList<ConnectRequest> ms)
        {
            if (ms.Count == 0) return;
            lock (queueLock)
            {
                if (broken != null) throw new IOException("the output to the agent is broken: " + broken);
                queued.AddRange(ms);
                queuedSeq += ms.Count;
                long mine = queuedSeq;
                // Another thread is writing: it takes ours along (or the next writer does).
                while (writtenSeq < mine && broken == null && writing) Monitor.Wait(queueLock);
                if (writtenSeq >= mine) return;
                if (broken != null) throw new IOException("the output to the agent is broken: " + broken);
                writing = true;
                try
                {
                    // Write what is queued, then what was queued meanwhile, until nothing is left.
                    while (queued.Count > 0 && broken == null)
                    {
                        var take = queued;
                        queued = spare;
                        long upto = queuedSeq;
                        Monitor.Exit(queueLock);
                        string failure = null;
                        try { WriteBatch(take); }
                        catch (Exception e) { failure = e.Message; }
                        finally { Monitor.Enter(queueLock); }
                        take.Clear();
                        spare = take;
                        if (failure == null) writtenSeq = upto;
                        else { broken = failure; queued.Clear(); }
                        Monitor.PulseAll(queueLock);
                    }
                }
                finally
                {
                    writing = false;
                    Monitor.PulseAll(queueLock);
                }
                if (writtenSeq < mine) throw new IOException("the output to the agent is broken: " + broken);
            }
        }

        // Writes messages as one batch line (when batches are on and there are several), else one line
        // each, with one write and one flush. Only the thread that set `writing` calls it.
        void WriteBatch(List<ConnectRequest> take)
        {
            var sb = new StringBuilder(256);
            if (take.Count > 1 && batches)
            {
                new ConnectRequest { Batch = new RequestBatch { Messages = take } }.WriteTo(new JsonWriter(sb));
                sb.Append('\n');
                Interlocked.Increment(ref batchesWritten);
            }
            else
            {
                foreach (var m in take) { m.WriteTo(new JsonWriter(sb)); sb.Append('\n'); }
            }
            lock (writeLock) WriteBytes(sb.ToString());
        }

        /// <summary>Writes text (one JSON document) and a newline atomically, then flushes.</summary>
        public void WriteLine(string json)
        {
            lock (writeLock) WriteBytes(json + "\n");
        }

        // Writes text (whole lines) with one write and one flush; the caller holds writeLock.
        void WriteBytes(string text)
        {
            int max = Utf8.GetMaxByteCount(text.Length);
            if (outBuf.Length < max) outBuf = new byte[Math.Max(max, outBuf.Length * 2)];
            int n = Utf8.GetBytes(text, 0, text.Length, outBuf, 0);
            output.Write(outBuf, 0, n);
            output.Flush();
            if (outBuf.Length > (1 << 20)) outBuf = new byte[4096];
        }
    }
}
