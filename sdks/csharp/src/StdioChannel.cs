using System;
using System.IO;
using System.Text;
using Chorus.Worker.Json;
using Chorus.Worker.Protocol;

namespace Chorus.Worker
{
    /// <summary>
    /// The stdio transport: reads one ConnectResponse per line from the agent and writes one
    /// ConnectRequest per line to it. Writes are serialized, so each message is one whole line even when
    /// handlers on several threads report at once. Lines end with '\n' only; JSON escapes every newline
    /// inside strings, so a message never spans lines.
    /// </summary>
    public sealed class StdioChannel
    {
        /// <summary>Longest line accepted from the agent (the agent's own bound).</summary>
        public const int MaxLine = 64 << 20;

        static readonly UTF8Encoding Utf8 = new UTF8Encoding(false);

        readonly Stream input;
        readonly Stream output;
        readonly object writeLock = new object();
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

        /// <summary>Writes one message as one line and flushes it. Safe to call from any thread.</summary>
        public void Send(ConnectRequest m)
        {
            var w = new JsonWriter();
            m.WriteTo(w);
            WriteLine(w.ToString());
        }

        /// <summary>Writes text (one JSON document) and a newline atomically, then flushes.</summary>
        public void WriteLine(string json)
        {
            lock (writeLock)
            {
                int max = Utf8.GetMaxByteCount(json.Length) + 1;
                if (outBuf.Length < max) outBuf = new byte[Math.Max(max, outBuf.Length * 2)];
                int n = Utf8.GetBytes(json, 0, json.Length, outBuf, 0);
                outBuf[n++] = (byte)'\n';
                output.Write(outBuf, 0, n);
                output.Flush();
                if (outBuf.Length > (1 << 20)) outBuf = new byte[4096];
            }
        }
    }
}
