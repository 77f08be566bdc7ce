package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"
)

// Figure is one measured value, with the floor measured in the same run
// when it has one.
type Figure struct {
	ID    string  `json:"id"` // "P1", "P2", ...
	Name  string  `json:"name"`
	Unit  string  `json:"unit"`
	Value float64 `json:"value"`
	// Floor is the same work done by a bare client; 0 means none.
	Floor float64 `json:"floor,omitempty"`
	Goal  string  `json:"goal,omitempty"`
}

// Ratio is Value/Floor, or 0 without a floor.
func (f Figure) Ratio() float64 {
	if f.Floor == 0 {
		return 0
	}
	return f.Value / f.Floor
}

// Report is the result of one run.
type Report struct {
	Mode    string    `json:"mode"`
	Started time.Time `json:"started"`
	Latency string    `json:"latency"`
	Machine string    `json:"machine"`
	Figures []Figure  `json:"figures"`
}

// Add records f.
func (r *Report) Add(f Figure) { r.Figures = append(r.Figures, f) }

// Has reports whether a figure named id and name was recorded.
func (r *Report) Has(id, name string) bool {
	for _, f := range r.Figures {
		if f.ID == id && f.Name == name {
			return true
		}
	}
	return false
}

// WriteTable prints the figures as an aligned table.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "figure\tmeasure\tvalue\tfloor\tratio\tgoal\n")
	for _, f := range r.Figures {
		floor, ratio := "-", "-"
		if f.Floor != 0 {
			floor, ratio = formatValue(f.Floor, f.Unit), fmt.Sprintf("%.2f×", f.Ratio())
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", f.ID, f.Name, formatValue(f.Value, f.Unit), floor, ratio, orDash(f.Goal))
	}
	return tw.Flush()
}

// WriteJSON writes the report to path, creating its directory.
func (r *Report) WriteJSON(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", filepath.Dir(path), err)
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

func formatValue(v float64, unit string) string {
	switch unit {
	case "s":
		return fmt.Sprintf("%.2f s", v)
	case "ms":
		return fmt.Sprintf("%.1f ms", v)
	case "MiB":
		return fmt.Sprintf("%.0f MiB", v)
	case "":
		return fmt.Sprintf("%.0f", v)
	default:
		return strings.TrimSpace(fmt.Sprintf("%.0f %s", v, unit))
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// HasID reports whether any figure of id (e.g. "P1") was recorded.
func (r *Report) HasID(id string) bool {
	for _, f := range r.Figures {
		if f.ID == id {
			return true
		}
	}
	return false
}
