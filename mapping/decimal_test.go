package mapping

import (
	"math"
	"testing"
)

// TestDecimalPrint pins BigDecimal.toString and new BigDecimal(double), which the oracle
// cases (i18_number_* in testdata/aws/cases.json) reach only through json-smart's literals.
func TestDecimalPrint(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"1.000000000000000000", "1.000000000000000000"},
		{"0.0000001", "1E-7"},
		{"0.000001", "0.000001"},
		{"-0.0000000", "0E-7"},
		{"1e3", "1E+3"},
		{"12.5e1", "125"},
		{"12.5E+2", "1.25E+3"},
		{"-123.456e-2", "-1.23456"},
	} {
		d, ok := parseDecimal(c.in)
		if !ok {
			t.Fatalf("parseDecimal(%q) failed", c.in)
		}
		if got := d.String(); got != c.want {
			t.Errorf("%s: got %s, want %s", c.in, got, c.want)
		}
	}
	for _, c := range []struct {
		f    float64
		want string
	}{
		{0.1, "0.1000000000000000055511151231257827021181583404541015625"},
		{2, "2"},
		{1e20, "100000000000000000000"},
		{-0.5, "-0.5"},
		{math.SmallestNonzeroFloat64, "4.940656458412465441765687928682213723650598026143247644255856825006755072702087518652998363616359923797965646954457177309266567103559397963987747960107818781263007131903114045278458171678489821036887186360569987307230500063874091535649843873124733972731696151400317153853980741262385655911710266585566867681870395603106249319452715914924553293054565444011274801297099995419319894090804165633245247571478690147267801593552386115501348035264934720193790268107107491703332226844753335720832431936092382893458368060106011506169809753078342277318329247904982524730776375927247874656084778203734469699533647017972677717585125660551199131504891101451037862738167250955837389733598993664809941164205702637090279242767544565229087538682506419718265533447265625E-324"},
	} {
		d, ok := decimalFromFloat(c.f)
		if !ok || d.String() != c.want {
			t.Errorf("new BigDecimal(%v) = %v, want %s", c.f, d, c.want)
		}
	}
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if _, ok := decimalFromFloat(f); ok {
			t.Errorf("new BigDecimal(%v) must fail, as Java's throws", f)
		}
	}
}

// TestDecimalBadInput: a long decimal literal whose exponent is beyond Java's int is not a
// number json-smart can read, and arithmetic past the supported scale is a render error.
func TestDecimalBadInput(t *testing.T) {
	for _, body := range []string{
		`{"a": 1.00000000000000000e99999999999}`,
		`{"a": 1.000000000000000000e-2147483649}`,
	} {
		if _, err := parseJSON(body, true); err == nil {
			t.Errorf("%s: parsed", body)
		}
	}
	for _, src := range []string{
		"#set($x = $input.path('$.a'))#set($y = $x % 2)$y",
		"#set($x = $input.path('$.a'))#set($y = $x + $input.path('$.b'))$y",
		"#set($x = $input.path('$.a'))#foreach($i in [1..20])#set($x = $x * $x)#end$x",
	} {
		_, err := render("bad", src, &Input{Body: []byte(`{"a": 1.000000000000000001, "b": 1.000000000000000000e-9999}`)})
		if err == nil {
			t.Errorf("%s: rendered", src)
		}
	}
}
