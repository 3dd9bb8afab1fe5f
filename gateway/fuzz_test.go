package gateway

import (
	"bytes"
	"errors"
	"io"
	"net/url"
	"testing"

	"buf.build/go/protovalidate"
	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/grpc-ecosystem/grpc-gateway/v2/utilities"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// restRequests are the request messages REST bodies and query strings decode into.
func restRequests() []func() proto.Message {
	return []func() proto.Message{
		func() proto.Message { return &chorusv1.CreateSessionRequest{} },
		func() proto.Message { return &chorusv1.GetSessionRequest{} },
		func() proto.Message { return &chorusv1.ListSessionsRequest{} },
		func() proto.Message { return &chorusv1.PauseSessionRequest{} },
		func() proto.Message { return &chorusv1.PurgeSessionRequest{} },
		func() proto.Message { return &chorusv1.SubmitTasksRequest{} },
		func() proto.Message { return &chorusv1.GetTaskRequest{} },
		func() proto.Message { return &chorusv1.ListTasksRequest{} },
		func() proto.Message { return &chorusv1.CancelTasksRequest{} },
		func() proto.Message { return &chorusv1.CreateResultsRequest{} },
		func() proto.Message { return &chorusv1.UploadResultDataRequest{} },
		func() proto.Message { return &chorusv1.GetResultRequest{} },
		func() proto.Message { return &chorusv1.DownloadResultDataRequest{} },
		func() proto.Message { return &chorusv1.ListResultsRequest{} },
		func() proto.Message { return &chorusv1.WatchEventsRequest{} },
		func() proto.Message { return &chorusv1.GetPartitionRequest{} },
	}
}

// FuzzRESTDecode feeds arbitrary bytes to the REST decoding path (the gateway's JSON marshaler, its
// streaming decoder, and query-string population) and then to the validation that every call goes
// through. Nothing may panic, and every rejection must be INVALID_ARGUMENT naming the violated fields.
func FuzzRESTDecode(f *testing.F) {
	for i, seed := range []string{
		`{}`,
		`{"defaultTaskOptions":{"partition":"python-cpu","priority":9,"maxRetries":0,"maxDuration":"30s","options":{"k":"v"}},"weight":100,"labels":{"team":"risk"}}`,
		`{"sessionId":"s0123abc"}`,
		`{"pageSize":1000,"pageToken":"abc","status":"SESSION_STATUS_RUNNING"}`,
		`{"sessionId":"s1"}`,
		`{"sessionId":"s1"}`,
		`{"sessionId":"s1","tasks":[{"method":"sha256","payload":"aGVsbG8=","options":{"partition":"p"}}],"requestId":"r-1"}`,
		`{"sessionId":"s1","taskId":"t1"}`,
		`{"sessionId":"s1","pageSize":-1}`,
		`{"sessionId":"s1","taskIds":["t1","t1"]}`,
		`{"sessionId":"s1","results":[{"resultId":"r1","data":"AAE="},{"resultId":""}]}`,
		`{"sessionId":"s1","resultId":"r1","data":"AAECAw=="}{"data":"BA=="}`,
		`{"sessionId":"../x","resultId":""}`,
		`{"sessionId":"s1","status":"RESULT_STATUS_ABORTED"}`,
		`{"sessionId":"s1","cursor":"$","kinds":["EVENT_KIND_TASK_STATUS",0]}`,
		`{"partitionId":"bad partition"}`,
	} {
		f.Add(uint8(i), []byte(seed))
	}
	f.Add(uint8(5), []byte(`{"sessionId":"s1","tasks":[{"method":"","payload":"AA==","payloadId":"r1","options":{"priority":10,"maxDuration":"0s"}}]}`))
	f.Add(uint8(14), []byte(`session_id=s1&cursor=1-0&kinds=EVENT_KIND_RESULT_STATUS`))
	f.Add(uint8(2), []byte(`page_size=5&status=SESSION_STATUS_CLOSED`))
	f.Add(uint8(7), []byte(`{"sessionId":1e999}`))

	v, err := protovalidate.New()
	if err != nil {
		f.Fatal(err)
	}
	m := restMarshaler()
	requests := restRequests()
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		newMsg := requests[int(which)%len(requests)]

		// A JSON body, as the generated routes decode it.
		if msg := newMsg(); m.Unmarshal(data, msg) == nil {
			checkValidation(t, v, msg)
		}
		// A stream of JSON messages, as the NDJSON upload route decodes it.
		dec := m.NewDecoder(bytes.NewReader(data))
		for range 8 {
			msg := newMsg()
			if err := dec.Decode(msg); err != nil {
				if !errors.Is(err, io.EOF) && err.Error() == "" {
					t.Fatalf("decode error without a message")
				}
				break
			}
			checkValidation(t, v, msg)
		}
		// A query string, as GET routes decode it.
		if q, err := url.ParseQuery(string(data)); err == nil {
			msg := newMsg()
			if runtime.PopulateQueryParameters(msg, q, utilities.NewDoubleArray(nil)) == nil {
				checkValidation(t, v, msg)
			}
		}
	})
}

func checkValidation(t *testing.T, v protovalidate.Validator, msg proto.Message) {
	t.Helper()
	err := validationStatus(v, msg)
	if err == nil {
		return
	}
	st, ok := status.FromError(err)
	if !ok || st.Code() != codes.InvalidArgument {
		t.Fatalf("validating %T %v: want INVALID_ARGUMENT, got %v", msg, msg, err)
	}
	var fields int
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, fv := range br.GetFieldViolations() {
				if fv.GetField() == "" || fv.GetDescription() == "" {
					t.Fatalf("violation without field or description: %v", fv)
				}
				fields++
			}
		}
	}
	if fields == 0 {
		t.Fatalf("INVALID_ARGUMENT without field violations: %v", err)
	}
}
