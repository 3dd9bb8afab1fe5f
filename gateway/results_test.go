package gateway_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"

	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

func randomBytes(t testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// upload streams data in chunks of size chunk to UploadResultData.
func (e *env) upload(sid, rid string, data []byte, chunk int) (*chorusv1.Result, error) {
	stream, err := e.results.UploadResultData(e.ctx)
	if err != nil {
		return nil, err
	}
	first := true
	for len(data) > 0 || first {
		n := min(chunk, len(data))
		msg := &chorusv1.UploadResultDataRequest{Data: data[:n]}
		if first {
			msg.SessionId, msg.ResultId = sid, rid
		}
		if err := stream.Send(msg); err != nil {
			break // the server ended the call: CloseAndRecv says why
		}
		data, first = data[n:], false
	}
	resp, err := stream.CloseAndRecv()
	return resp.GetResult(), err
}

// download reads a result's data over gRPC.
func (e *env) download(sid, rid string) ([]byte, error) {
	stream, err := e.results.DownloadResultData(e.ctx, &chorusv1.DownloadResultDataRequest{SessionId: sid, ResultId: rid})
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return buf.Bytes(), nil
		}
		if err != nil {
			return buf.Bytes(), err
		}
		buf.Write(msg.GetData())
	}
}

func TestResultsGRPC(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	sid := e.session()
	small := []byte("small inline data")
	created, err := e.results.CreateResults(e.ctx, &chorusv1.CreateResultsRequest{SessionId: sid, Results: []*chorusv1.ResultSpec{
		{ResultId: "inline", Data: small},
		{ResultId: "empty", Data: []byte{}},
		{ResultId: "later"},
		{ResultId: "big"},
		{},
	}})
	if err != nil {
		t.Fatalf("CreateResults: %v", err)
	}
	rs := created.GetResults()
	if len(rs) != 5 || rs[0].GetStatus() != chorusv1.ResultStatus_RESULT_STATUS_COMPLETED || rs[0].GetSha256() != sha(small) ||
		rs[0].GetLocation() != chorusv1.ResultLocation_RESULT_LOCATION_INLINE || rs[1].GetStatus() != chorusv1.ResultStatus_RESULT_STATUS_COMPLETED ||
		rs[2].GetStatus() != chorusv1.ResultStatus_RESULT_STATUS_CREATED || rs[4].GetResultId() == "" {
		t.Fatalf("created results = %v", rs)
	}

	// A small upload stays inline; a big one (many chunks) goes to the object store.
	later := []byte("uploaded in three chunks")
	r, err := e.upload(sid, "later", later, 8)
	if err != nil || r.GetStatus() != chorusv1.ResultStatus_RESULT_STATUS_COMPLETED || r.GetSizeBytes() != int64(len(later)) ||
		r.GetSha256() != sha(later) || r.GetLocation() != chorusv1.ResultLocation_RESULT_LOCATION_INLINE {
		t.Fatalf("upload later = %v, %v", r, err)
	}
	big := randomBytes(t, 3<<20+12345)
	r, err = e.upload(sid, "big", big, 100<<10)
	if err != nil || r.GetSizeBytes() != int64(len(big)) || r.GetSha256() != sha(big) || r.GetLocation() != chorusv1.ResultLocation_RESULT_LOCATION_OBJECT {
		t.Fatalf("upload big = %v, %v", r, err)
	}
	for id, want := range map[string][]byte{"inline": small, "empty": {}, "later": later, "big": big} {
		got, err := e.download(sid, id)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("download %s: %d bytes, %v; want %d bytes", id, len(got), err, len(want))
		}
	}
	got, err := e.results.GetResult(e.ctx, &chorusv1.GetResultRequest{SessionId: sid, ResultId: "big"})
	if err != nil || got.GetResult().GetSha256() != sha(big) {
		t.Fatalf("GetResult = %v, %v", got, err)
	}
	list, err := e.results.ListResults(e.ctx, &chorusv1.ListResultsRequest{SessionId: sid, Status: chorusv1.ResultStatus_RESULT_STATUS_CREATED})
	if err != nil || len(list.GetResults()) != 1 || list.GetResults()[0].GetResultId() != rs[4].GetResultId() {
		t.Fatalf("ListResults(CREATED) = %v, %v", list, err)
	}

	// Errors.
	_, err = e.upload(sid, "big", []byte("again"), 8)
	wantCode(t, err, codes.FailedPrecondition, "big")
	_, err = e.upload(sid, "nope", []byte("x"), 8)
	wantCode(t, err, codes.NotFound, "nope")
	_, err = e.upload("", "", []byte("x"), 8)
	st := wantCode(t, err, codes.InvalidArgument, "session_id")
	wantFields(t, st.Details(), "session_id")
	_, err = e.upload(sid, "bad id!", nil, 8)
	wantCode(t, err, codes.InvalidArgument, "result_id")
	_, err = e.download(sid, rs[4].GetResultId())
	wantCode(t, err, codes.FailedPrecondition)
	_, err = e.download(sid, "nope")
	wantCode(t, err, codes.NotFound, "nope")
	_, err = e.results.GetResult(e.ctx, &chorusv1.GetResultRequest{SessionId: sid, ResultId: "nope"})
	wantCode(t, err, codes.NotFound, "nope")
	_, err = e.results.GetResult(e.ctx, &chorusv1.GetResultRequest{SessionId: "snope", ResultId: "r"})
	wantCode(t, err, codes.NotFound)
	_, err = e.results.CreateResults(e.ctx, &chorusv1.CreateResultsRequest{SessionId: sid, Results: []*chorusv1.ResultSpec{{ResultId: "inline"}}})
	wantCode(t, err, codes.AlreadyExists, "inline")
	_, err = e.results.CreateResults(e.ctx, &chorusv1.CreateResultsRequest{SessionId: sid, Results: []*chorusv1.ResultSpec{{ResultId: "huge", Data: make([]byte, 4<<10+1)}}})
	wantCode(t, err, codes.ResourceExhausted, "InlineLimit", "4096", "UploadResultData")
	_, err = e.results.CreateResults(e.ctx, &chorusv1.CreateResultsRequest{SessionId: "snope", Results: []*chorusv1.ResultSpec{{}}})
	wantCode(t, err, codes.NotFound)

	// Over MaxResultSize: refused, and the result stays CREATED with no object left behind.
	if _, err := e.results.CreateResults(e.ctx, &chorusv1.CreateResultsRequest{SessionId: sid, Results: []*chorusv1.ResultSpec{{ResultId: "toolarge"}}}); err != nil {
		t.Fatal(err)
	}
	_, err = e.upload(sid, "toolarge", make([]byte, 8<<20+1), 1<<20)
	wantCode(t, err, codes.ResourceExhausted, "MaxResultSize", strconv.Itoa(8<<20))
	r2, err := e.results.GetResult(e.ctx, &chorusv1.GetResultRequest{SessionId: sid, ResultId: "toolarge"})
	if err != nil || r2.GetResult().GetStatus() != chorusv1.ResultStatus_RESULT_STATUS_CREATED {
		t.Fatalf("after a refused upload: %v, %v; want CREATED", r2, err)
	}
	// The same result can then be uploaded within the limit.
	if _, err := e.upload(sid, "toolarge", big, 1<<20); err != nil {
		t.Fatalf("upload after a refused one: %v", err)
	}

	// Purging the session deletes its objects.
	data, err := e.st.GetResultData(e.ctx, sid, []string{"big"})
	if err != nil || data[0].ObjectKey == "" {
		t.Fatalf("GetResultData = %v, %v", data, err)
	}
	if _, err := e.sessions.CancelSession(e.ctx, &chorusv1.CancelSessionRequest{SessionId: sid}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sessions.PurgeSession(e.ctx, &chorusv1.PurgeSessionRequest{SessionId: sid}); err != nil {
		t.Fatalf("PurgeSession: %v", err)
	}
	if ok, err := e.objs.Exists(e.ctx, data[0].ObjectKey); err != nil || ok {
		t.Fatalf("object %s after purge: exists=%v, %v", data[0].ObjectKey, ok, err)
	}
}

// TestCorruptResultData replaces a result's object with other bytes of the same size: a download must
// fail naming the result, over gRPC with DATA_LOSS and over REST with a response cut short.
func TestCorruptResultData(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	sid := e.session()
	if _, err := e.results.CreateResults(e.ctx, &chorusv1.CreateResultsRequest{SessionId: sid, Results: []*chorusv1.ResultSpec{{ResultId: "r"}}}); err != nil {
		t.Fatal(err)
	}
	data := randomBytes(t, 1<<20)
	if _, err := e.upload(sid, "r", data, 64<<10); err != nil {
		t.Fatal(err)
	}
	where, err := e.st.GetResultData(e.ctx, sid, []string{"r"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.objs.Put(e.ctx, where[0].ObjectKey, bytes.NewReader(randomBytes(t, len(data))), 0); err != nil {
		t.Fatal(err)
	}
	_, err = e.download(sid, "r")
	wantCode(t, err, codes.DataLoss, `result "r"`, sid)

	resp, err := e.httpc.Get(e.base + "/v1/sessions/" + sid + "/results/r/data")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err == nil && len(got) == len(data) {
		t.Fatalf("REST download of corrupt data read %d bytes without an error", len(got))
	}
}

func TestResultsREST(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	sid := e.session()
	path := "/v1/sessions/" + sid + "/results"
	var created chorusv1.CreateResultsResponse
	e.restOK("POST", path+":batchCreate", `{"results":[{"resultId":"a","data":"aGk="},{"resultId":"raw"},{"resultId":"nd"}]}`, &created)
	if len(created.GetResults()) != 3 || created.GetResults()[0].GetSha256() != sha([]byte("hi")) {
		t.Fatalf("created = %v", created.GetResults())
	}
	var got chorusv1.GetResultResponse
	e.restOK("GET", path+"/a", "", &got)
	if got.GetResult().GetStatus() != chorusv1.ResultStatus_RESULT_STATUS_COMPLETED || got.GetResult().GetSizeBytes() != 2 {
		t.Fatalf("GET result = %v", got.GetResult())
	}
	var list chorusv1.ListResultsResponse
	e.restOK("GET", path+"?status=RESULT_STATUS_CREATED", "", &list)
	if len(list.GetResults()) != 2 {
		t.Fatalf("GET results?status=CREATED = %v", list.GetResults())
	}

	// PUT raw bytes (several MiB, many chunks, through the object store), then GET them back raw.
	data := randomBytes(t, 5<<20+777)
	req, _ := http.NewRequestWithContext(e.ctx, "PUT", e.base+path+"/raw/data", bytes.NewReader(data))
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := e.httpc.Do(req)
	if err != nil {
		t.Fatalf("PUT data: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var up chorusv1.UploadResultDataResponse
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT data: HTTP %d: %s", resp.StatusCode, body)
	}
	if err := protojson.Unmarshal(body, &up); err != nil || up.GetResult().GetSha256() != sha(data) ||
		up.GetResult().GetLocation() != chorusv1.ResultLocation_RESULT_LOCATION_OBJECT {
		t.Fatalf("PUT data answered %s (%v)", body, err)
	}
	resp, err = e.httpc.Get(e.base + path + "/raw/data")
	if err != nil {
		t.Fatalf("GET data: %v", err)
	}
	back, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || !bytes.Equal(back, data) {
		t.Fatalf("GET data: HTTP %d, %d bytes, %v; want %d bytes", resp.StatusCode, len(back), err, len(data))
	}
	if ct, cl, sum := resp.Header.Get("Content-Type"), resp.Header.Get("Content-Length"), resp.Header.Get("Chorus-Sha256"); ct != "application/octet-stream" ||
		cl != strconv.Itoa(len(data)) || sum != sha(data) {
		t.Fatalf("GET data headers: Content-Type %q, Content-Length %q, Chorus-Sha256 %q", ct, cl, sum)
	}
	resp, err = e.httpc.Get(e.base + path + "/a/data")
	if err == nil {
		back, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if err != nil || string(back) != "hi" {
		t.Fatalf("GET inline data = %q, %v", back, err)
	}

	// The generated streaming upload route: newline-delimited JSON messages.
	nd := `{"sessionId":"` + sid + `","resultId":"nd","data":"` + base64.StdEncoding.EncodeToString([]byte("part one, ")) + `"}` + "\n" +
		`{"data":"` + base64.StdEncoding.EncodeToString([]byte("part two")) + `"}` + "\n"
	var ndResp chorusv1.UploadResultDataResponse
	e.restOK("POST", "/v1/results:upload", nd, &ndResp)
	if ndResp.GetResult().GetSha256() != sha([]byte("part one, part two")) {
		t.Fatalf("NDJSON upload = %v", ndResp.GetResult())
	}

	// Errors.
	e.restErr("GET", path+"/nope", "", http.StatusNotFound, codes.NotFound, "nope")
	e.restErr("GET", path+"/nope/data", "", http.StatusNotFound, codes.NotFound, "nope")
	e.restErr("PUT", path+"/nope/data", "xyz", http.StatusNotFound, codes.NotFound, "nope")
	e.restErr("PUT", path+"/raw/data", "xyz", http.StatusBadRequest, codes.FailedPrecondition, "raw")
	e.restErr("POST", path+":batchCreate", `{"results":[{"resultId":"x","data":"`+base64.StdEncoding.EncodeToString(make([]byte, 5000))+`"}]}`,
		http.StatusRequestEntityTooLarge, codes.ResourceExhausted, "InlineLimit")
	e.restErr("POST", path+":batchCreate", `{"results":[{"resultId":"a"}]}`, http.StatusConflict, codes.AlreadyExists, "a")
	st := e.restErr("POST", path+":batchCreate", `{"results":[{"resultId":"-bad"}]}`, http.StatusBadRequest, codes.InvalidArgument, "results[0].result_id")
	wantFields(t, st.Details(), "results[0].result_id")
	e.restOK("POST", path+":batchCreate", `{"results":[{"resultId":"limit"}]}`, nil)
	e.restErr("PUT", path+"/limit/data", strings.Repeat("z", 8<<20+1), http.StatusRequestEntityTooLarge, codes.ResourceExhausted, "MaxResultSize")
}
