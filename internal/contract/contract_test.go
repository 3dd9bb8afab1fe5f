package contract_test

import (
	"errors"
	"strings"
	"testing"

	"buf.build/go/protovalidate"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// invalid is one request that breaks one rule: the field path and rule id protovalidate must report.
type invalid struct {
	name  string
	json  string
	field string // field path as protovalidate prints it
	rule  string // rule id, e.g. "string.pattern"
}

type contractCase struct {
	msg     func() proto.Message
	valid   []string
	invalid []invalid
}

// sessionOnly is the case of a request that carries only a session id: "s1" is valid, bad breaks a
// rule.
func sessionOnly(msg func() proto.Message, bad invalid) contractCase {
	return contractCase{msg: msg, valid: []string{`{"sessionId":"s1"}`}, invalid: []invalid{bad}}
}

func cases() map[string]contractCase {
	return map[string]contractCase{
		"CreateSessionRequest": {
			msg: func() proto.Message { return &chorusv1.CreateSessionRequest{} },
			valid: []string{
				`{}`,
				`{"defaultTaskOptions":{"partition":"python-cpu","priority":9,"maxRetries":0,"maxDuration":"30s","options":{"k":"v"}},"weight":100,"labels":{"team":"risk"}}`,
			},
			invalid: []invalid{
				{"weight too high", `{"weight":101}`, "weight", "int32.gte_lte"},
				{"weight negative", `{"weight":-1}`, "weight", "int32.gte_lte"},
				{"label key empty", `{"labels":{"":"x"}}`, `labels[""]`, "string.min_len"},
				{"partition pattern", `{"defaultTaskOptions":{"partition":"bad partition"}}`, "default_task_options.partition", "string.pattern"},
				{"priority range", `{"defaultTaskOptions":{"priority":10}}`, "default_task_options.priority", "int32.gte_lte"},
				{"retries range", `{"defaultTaskOptions":{"maxRetries":101}}`, "default_task_options.max_retries", "int32.gte_lte"},
				{"duration too short", `{"defaultTaskOptions":{"maxDuration":"0s"}}`, "default_task_options.max_duration", "duration.gte_lte"},
				{"duration too long", `{"defaultTaskOptions":{"maxDuration":"700000s"}}`, "default_task_options.max_duration", "duration.gte_lte"},
			},
		},
		"GetSessionRequest": {
			msg:   func() proto.Message { return &chorusv1.GetSessionRequest{} },
			valid: []string{`{"sessionId":"s0123abc"}`, `{"sessionId":"a.b_c:d-e"}`},
			invalid: []invalid{
				{"missing id", `{}`, "session_id", "string.min_len"},
				{"bad characters", `{"sessionId":"../etc"}`, "session_id", "string.pattern"},
				{"too long", `{"sessionId":"` + strings.Repeat("a", 129) + `"}`, "session_id", "string.max_len"},
			},
		},
		"ListSessionsRequest": {
			msg:   func() proto.Message { return &chorusv1.ListSessionsRequest{} },
			valid: []string{`{}`, `{"pageSize":1000,"pageToken":"abc","status":"SESSION_STATUS_RUNNING"}`},
			invalid: []invalid{
				{"page size", `{"pageSize":1001}`, "page_size", "int32.gte_lte"},
				{"undefined status", `{"status":42}`, "status", "enum.defined_only"},
				{"token too long", `{"pageToken":"` + strings.Repeat("x", 513) + `"}`, "page_token", "string.max_len"},
			},
		},
		"PauseSessionRequest": sessionOnly(func() proto.Message { return &chorusv1.PauseSessionRequest{} },
			invalid{"missing id", `{}`, "session_id", "string.min_len"}),
		"ResumeSessionRequest": sessionOnly(func() proto.Message { return &chorusv1.ResumeSessionRequest{} },
			invalid{"bad id", `{"sessionId":"-x"}`, "session_id", "string.pattern"}),
		"CloseSessionRequest": sessionOnly(func() proto.Message { return &chorusv1.CloseSessionRequest{} },
			invalid{"missing id", `{}`, "session_id", "string.min_len"}),
		"CancelSessionRequest": sessionOnly(func() proto.Message { return &chorusv1.CancelSessionRequest{} },
			invalid{"missing id", `{}`, "session_id", "string.min_len"}),
		"PurgeSessionRequest": sessionOnly(func() proto.Message { return &chorusv1.PurgeSessionRequest{} },
			invalid{"space in id", `{"sessionId":"s 1"}`, "session_id", "string.pattern"}),
		"SubmitTasksRequest": {
			msg: func() proto.Message { return &chorusv1.SubmitTasksRequest{} },
			valid: []string{
				`{"sessionId":"s1","tasks":[{"method":"echo","payload":"aGVsbG8="}]}`,
				`{"sessionId":"s1","requestId":"req-1","tasks":[{"method":"sha256","payloadId":"r1","dataDependencies":["a","b"],"expectedOutputIds":["out"],"options":{"partition":"go","priority":3}}]}`,
			},
			invalid: []invalid{
				{"no tasks", `{"sessionId":"s1"}`, "tasks", "repeated.min_items"},
				{"missing method", `{"sessionId":"s1","tasks":[{}]}`, "tasks[0].method", "string.min_len"},
				{"method pattern", `{"sessionId":"s1","tasks":[{"method":"rm -rf"}]}`, "tasks[0].method", "string.pattern"},
				{"duplicate dependency", `{"sessionId":"s1","tasks":[{"method":"m","dataDependencies":["a","a"]}]}`, "tasks[0].data_dependencies", "repeated.unique"},
				{"bad output id", `{"sessionId":"s1","tasks":[{"method":"m","expectedOutputIds":["bad id"]}]}`, "tasks[0].expected_output_ids[0]", "string.pattern"},
				{"payload and payload id", `{"sessionId":"s1","tasks":[{"method":"m","payload":"eA==","payloadId":"r1"}]}`, "tasks[0]", "message.oneof"},
				{"bad request id", `{"sessionId":"s1","requestId":"no spaces","tasks":[{"method":"m"}]}`, "request_id", "string.pattern"},
				{"task option priority", `{"sessionId":"s1","tasks":[{"method":"m","options":{"priority":-1}}]}`, "tasks[0].options.priority", "int32.gte_lte"},
				{"option value too long", `{"sessionId":"s1","tasks":[{"method":"m","options":{"options":{"k":"` + strings.Repeat("v", 1025) + `"}}}]}`, `tasks[0].options.options["k"]`, "string.max_len"},
			},
		},
		"GetTaskRequest": {
			msg:   func() proto.Message { return &chorusv1.GetTaskRequest{} },
			valid: []string{`{"sessionId":"s1","taskId":"t1"}`},
			invalid: []invalid{
				{"missing task id", `{"sessionId":"s1"}`, "task_id", "string.min_len"},
				{"missing session id", `{"taskId":"t1"}`, "session_id", "string.min_len"},
			},
		},
		"ListTasksRequest": {
			msg:   func() proto.Message { return &chorusv1.ListTasksRequest{} },
			valid: []string{`{"sessionId":"s1","status":"TASK_STATUS_FAILED","pageSize":10}`},
			invalid: []invalid{
				{"page size negative", `{"sessionId":"s1","pageSize":-1}`, "page_size", "int32.gte_lte"},
				{"undefined status", `{"sessionId":"s1","status":99}`, "status", "enum.defined_only"},
			},
		},
		"CancelTasksRequest": {
			msg:   func() proto.Message { return &chorusv1.CancelTasksRequest{} },
			valid: []string{`{"sessionId":"s1","taskIds":["t1","t2"]}`},
			invalid: []invalid{
				{"no ids", `{"sessionId":"s1"}`, "task_ids", "repeated.min_items"},
				{"duplicate ids", `{"sessionId":"s1","taskIds":["t1","t1"]}`, "task_ids", "repeated.unique"},
				{"empty id", `{"sessionId":"s1","taskIds":[""]}`, "task_ids[0]", "string.min_len"},
			},
		},
		"CreateResultsRequest": {
			msg:   func() proto.Message { return &chorusv1.CreateResultsRequest{} },
			valid: []string{`{"sessionId":"s1","results":[{},{"resultId":"in","data":"AAE="}]}`},
			invalid: []invalid{
				{"no results", `{"sessionId":"s1"}`, "results", "repeated.min_items"},
				{"bad result id", `{"sessionId":"s1","results":[{"resultId":"a/b"}]}`, "results[0].result_id", "string.pattern"},
			},
		},
		"UploadResultDataRequest": {
			msg:   func() proto.Message { return &chorusv1.UploadResultDataRequest{} },
			valid: []string{`{"sessionId":"s1","resultId":"r1","data":"AAE="}`, `{"data":"AAE="}`},
			invalid: []invalid{
				{"bad result id", `{"sessionId":"s1","resultId":"r 1"}`, "result_id", "string.pattern"},
			},
		},
		"GetResultRequest": {
			msg:     func() proto.Message { return &chorusv1.GetResultRequest{} },
			valid:   []string{`{"sessionId":"s1","resultId":"r1"}`},
			invalid: []invalid{{"missing result id", `{"sessionId":"s1"}`, "result_id", "string.min_len"}},
		},
		"DownloadResultDataRequest": {
			msg:     func() proto.Message { return &chorusv1.DownloadResultDataRequest{} },
			valid:   []string{`{"sessionId":"s1","resultId":"r1"}`},
			invalid: []invalid{{"missing result id", `{"sessionId":"s1"}`, "result_id", "string.min_len"}},
		},
		"ListResultsRequest": {
			msg:     func() proto.Message { return &chorusv1.ListResultsRequest{} },
			valid:   []string{`{"sessionId":"s1","status":"RESULT_STATUS_COMPLETED"}`},
			invalid: []invalid{{"undefined status", `{"sessionId":"s1","status":7}`, "status", "enum.defined_only"}},
		},
		"WatchEventsRequest": {
			msg: func() proto.Message { return &chorusv1.WatchEventsRequest{} },
			valid: []string{
				`{"sessionId":"s1"}`,
				`{"sessionId":"s1","cursor":"1700000000000-3","kinds":["EVENT_KIND_TASK_STATUS","EVENT_KIND_RESULT_STATUS"]}`,
				`{"sessionId":"s1","cursor":"$"}`,
			},
			invalid: []invalid{
				{"bad cursor", `{"sessionId":"s1","cursor":"yesterday"}`, "cursor", "string.pattern"},
				{"unspecified kind", `{"sessionId":"s1","kinds":["EVENT_KIND_UNSPECIFIED"]}`, "kinds[0]", "enum.not_in"},
			},
		},
		"ListPartitionsRequest": {
			msg:   func() proto.Message { return &chorusv1.ListPartitionsRequest{} },
			valid: []string{`{}`},
		},
		"GetPartitionRequest": {
			msg:   func() proto.Message { return &chorusv1.GetPartitionRequest{} },
			valid: []string{`{"partitionId":"python-cpu"}`},
			invalid: []invalid{
				{"missing id", `{}`, "partition_id", "string.min_len"},
				{"bad id", `{"partitionId":"a:b"}`, "partition_id", "string.pattern"},
			},
		},
	}
}

// TestEveryRequestIsCovered makes sure a new RPC cannot be added without a case here.
func TestEveryRequestIsCovered(t *testing.T) {
	t.Parallel()
	c := cases()
	for _, fd := range []protoreflect.FileDescriptor{
		chorusv1.File_chorus_v1_session_service_proto, chorusv1.File_chorus_v1_task_service_proto,
		chorusv1.File_chorus_v1_result_service_proto, chorusv1.File_chorus_v1_event_service_proto,
		chorusv1.File_chorus_v1_partition_service_proto,
	} {
		svcs := fd.Services()
		for i := 0; i < svcs.Len(); i++ {
			methods := svcs.Get(i).Methods()
			for j := 0; j < methods.Len(); j++ {
				name := string(methods.Get(j).Input().Name())
				if _, ok := c[name]; !ok {
					t.Errorf("request %s of %s has no contract case", name, methods.Get(j).FullName())
				}
			}
		}
	}
}

func TestRequestValidation(t *testing.T) {
	t.Parallel()
	validator, err := protovalidate.New()
	if err != nil {
		t.Fatalf("protovalidate.New: %v", err)
	}
	for name, c := range cases() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for _, js := range c.valid {
				msg := c.msg()
				if err := protojson.Unmarshal([]byte(js), msg); err != nil {
					t.Fatalf("decode %s: %v", js, err)
				}
				if err := validator.Validate(msg); err != nil {
					t.Errorf("valid request %s rejected: %v", js, err)
				}
			}
			for _, inv := range c.invalid {
				msg := c.msg()
				if err := protojson.Unmarshal([]byte(inv.json), msg); err != nil {
					t.Fatalf("%s: decode %s: %v", inv.name, inv.json, err)
				}
				err := validator.Validate(msg)
				var verr *protovalidate.ValidationError
				if !errors.As(err, &verr) {
					t.Errorf("%s: %s: want a validation error, got %v", inv.name, inv.json, err)
					continue
				}
				found := false
				var got []string
				for _, v := range verr.Violations {
					field := protovalidate.FieldPathString(v.Proto.GetField())
					got = append(got, field+" ("+v.Proto.GetRuleId()+")")
					if field == inv.field && v.Proto.GetRuleId() == inv.rule {
						found = true
					}
				}
				if !found {
					t.Errorf("%s: want violation %s (%s), got %v", inv.name, inv.field, inv.rule, got)
				}
			}
		})
	}
}
