package duban

import "time"

// LaunchProgress is the state of one plan launch.
type LaunchProgress struct {
	ID       string    `json:"id"`
	PlanID   string    `json:"plan_id"`
	Year     int       `json:"year"`
	Status   string    `json:"status"` // pending (written by the API before the workflow starts), running, done, failed
	Total    int       `json:"total"`
	Started  int       `json:"started"`  // workflows started by this launch
	Existing int       `json:"existing"` // already running or finished before
	Failed   int       `json:"failed"`
	Error    string    `json:"error,omitempty"`
	Updated  time.Time `json:"updated"`
}
