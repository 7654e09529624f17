package mapping

import (
	"errors"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// decimal is Java's BigDecimal, unscaled × 10^-scale. json-smart (under Jayway JsonPath, as
// API Gateway parses bodies) reads a JSON decimal literal longer than 18 characters as a
// BigDecimal, so it prints as written ("1.000000000000000000") and Velocity's arithmetic on it
// is exact. A decimal is immutable.
type decimal struct {
	u     *big.Int
	scale int64
}

// maxDecimalScale bounds the scales this package computes with, so that aligning two scales
// or printing cannot build numbers with millions of digits; Java would carry on (slowly) up
// to an int scale. Past it the arithmetic is a render error.
const maxDecimalScale = 4096

var errDecimalRange = errors.New("BigDecimal result out of the supported range")

// errDecimalMod is Velocity 1.7's answer to % with a BigDecimal operand (MathUtils.modulo).
var errDecimalMod = errors.New("java.lang.ArithmeticException: Cannot calculate the modulo of BigDecimals.")

// parseDecimal reads a JSON number literal the way BigDecimal(String) does: the digits are
// the unscaled value and the scale is the count of fraction digits minus the exponent. It
// reports false when the exponent is out of Java's int range.
func parseDecimal(text string) (*decimal, bool) {
	mant, exp, hasExp := strings.Cut(strings.ToLower(text), "e")
	scale := int64(0)
	if hasExp {
		e, err := strconv.ParseInt(strings.TrimPrefix(exp, "+"), 10, 32)
		if err != nil {
			return nil, false
		}
		scale = -e
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	scale += int64(len(frac))
	if scale > math.MaxInt32 || scale < math.MinInt32 {
		return nil, false
	}
	u, ok := new(big.Int).SetString(intPart+frac, 10)
	if !ok {
		return nil, false
	}
	return &decimal{u: u, scale: scale}, true
}

// decimalFromFloat is new BigDecimal(double): the exact binary value, at the smallest
// non-negative scale that holds it. NaN and the infinities have none (Java throws).
func decimalFromFloat(f float64) (*decimal, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, false
	}
	if f == 0 {
		return &decimal{u: new(big.Int)}, true
	}
	frac, exp := math.Frexp(f) // f = frac × 2^exp, 0.5 <= |frac| < 1
	mant := int64(frac * (1 << 53))
	exp -= 53
	for mant%2 == 0 {
		mant /= 2
		exp++
	}
	u := big.NewInt(mant)
	if exp >= 0 {
		return &decimal{u: u.Lsh(u, uint(exp))}, true
	}
	// m × 2^-k = m × 5^k / 10^k, and with m odd no smaller scale holds it.
	k := int64(-exp)
	return &decimal{u: u.Mul(u, new(big.Int).Exp(big.NewInt(5), big.NewInt(k), nil)), scale: k}, true
}

// toDecimal converts as Velocity 1.7's MathUtils.toBigDecimal does: a BigInteger exactly,
// anything else through its double value (so a long beyond 2^53 loses digits, as in Java).
func toDecimal(v any) (*decimal, bool) {
	switch v := v.(type) {
	case *decimal:
		return v, true
	case *big.Int:
		return &decimal{u: v}, true
	}
	return decimalFromFloat(toFloat(v))
}

// String is BigDecimal.toString: plain digits when the scale is not negative and the
// adjusted exponent is at least -6, otherwise scientific notation with an explicit sign.
func (d *decimal) String() string {
	digits := new(big.Int).Abs(d.u).String()
	var b strings.Builder
	if d.u.Sign() < 0 {
		b.WriteByte('-')
	}
	adjusted := -d.scale + int64(len(digits)-1)
	switch {
	case d.scale == 0:
		b.WriteString(digits)
	case d.scale > 0 && adjusted >= -6:
		if n := int64(len(digits)) - d.scale; n > 0 {
			b.WriteString(digits[:n])
			b.WriteByte('.')
			b.WriteString(digits[n:])
		} else {
			b.WriteString("0.")
			b.WriteString(strings.Repeat("0", int(-n)))
			b.WriteString(digits)
		}
	default:
		b.WriteString(digits[:1])
		if len(digits) > 1 {
			b.WriteByte('.')
			b.WriteString(digits[1:])
		}
		b.WriteByte('E')
		if adjusted >= 0 {
			b.WriteByte('+')
		}
		b.WriteString(strconv.FormatInt(adjusted, 10))
	}
	return b.String()
}

// float is BigDecimal.doubleValue, the nearest double.
func (d *decimal) float() float64 {
	f, err := strconv.ParseFloat(d.String(), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return math.NaN()
	}
	return f
}

// integer is the value truncated toward zero, as BigDecimal.toBigInteger gives.
func (d *decimal) integer() *big.Int {
	if d.scale <= 0 {
		if -d.scale > maxDecimalScale {
			return new(big.Int) // only reachable from literals; Java's value has no use here
		}
		return new(big.Int).Mul(d.u, pow10(-d.scale))
	}
	if d.scale > maxDecimalScale {
		return new(big.Int)
	}
	return new(big.Int).Quo(d.u, pow10(d.scale))
}

func pow10(n int64) *big.Int { return new(big.Int).Exp(big.NewInt(10), big.NewInt(n), nil) }

// align returns the unscaled values of x and y at their common (larger) scale.
func align(x, y *decimal) (a, b *big.Int, scale int64, ok bool) {
	switch {
	case x.scale == y.scale:
		return x.u, y.u, x.scale, true
	case x.scale < y.scale:
		if y.scale-x.scale > maxDecimalScale {
			return nil, nil, 0, false
		}
		return new(big.Int).Mul(x.u, pow10(y.scale-x.scale)), y.u, y.scale, true
	default:
		if x.scale-y.scale > maxDecimalScale {
			return nil, nil, 0, false
		}
		return x.u, new(big.Int).Mul(y.u, pow10(x.scale-y.scale)), x.scale, true
	}
}

// cmp is BigDecimal.compareTo: by value, whatever the scales. Scales too far apart to align
// compare by sign and then by double value, which only such extreme literals reach.
func (d *decimal) cmp(y *decimal) int {
	a, b, _, ok := align(d, y)
	if !ok {
		if s, t := d.u.Sign(), y.u.Sign(); s != t {
			return s - t
		}
		f, g := d.float(), y.float()
		switch {
		case f < g:
			return -1
		case f > g:
			return 1
		}
		return 0
	}
	return a.Cmp(b)
}

// decimalArith is Velocity 1.7's BigDecimal arithmetic: exact + - *, division rounded
// half-down to the dividend's scale (BigDecimal.divide(d, ROUND_HALF_DOWN)), null for a
// division by zero, and % an ArithmeticException.
func decimalArith(op string, a, b any) any {
	if (op == "/" || op == "%") && toFloat(b) == 0 {
		// Velocity checks for a zero divisor first, so even % gives null here (probed).
		if d, ok := b.(*decimal); !ok || d.u.Sign() == 0 {
			return nil
		}
	}
	x, ok1 := toDecimal(a)
	y, ok2 := toDecimal(b)
	if !ok1 || !ok2 {
		// new BigDecimal(NaN or Infinity) throws NumberFormatException.
		return errors.New("java.lang.NumberFormatException: Infinite or NaN")
	}
	var r *decimal
	switch op {
	case "+", "-":
		p, q, scale, ok := align(x, y)
		if !ok {
			return errDecimalRange
		}
		u := new(big.Int)
		if op == "+" {
			u.Add(p, q)
		} else {
			u.Sub(p, q)
		}
		r = &decimal{u: u, scale: scale}
	case "*":
		r = &decimal{u: new(big.Int).Mul(x.u, y.u), scale: x.scale + y.scale}
	case "/":
		if y.u.Sign() == 0 {
			return nil
		}
		// x/y at x's scale is x.u × 10^y.scale / y.u.
		num, den := new(big.Int).Set(x.u), new(big.Int).Set(y.u)
		switch {
		case y.scale > maxDecimalScale || y.scale < -maxDecimalScale:
			return errDecimalRange
		case y.scale > 0:
			num.Mul(num, pow10(y.scale))
		case y.scale < 0:
			den.Mul(den, pow10(-y.scale))
		}
		q, rem := new(big.Int).QuoRem(num, den, new(big.Int))
		// Half-down: only a remainder past the half rounds away from zero.
		if new(big.Int).Abs(new(big.Int).Lsh(rem, 1)).Cmp(new(big.Int).Abs(den)) > 0 {
			if num.Sign()*den.Sign() < 0 {
				q.Sub(q, big.NewInt(1))
			} else {
				q.Add(q, big.NewInt(1))
			}
		}
		r = &decimal{u: q, scale: x.scale}
	case "%":
		return errDecimalMod
	default:
		return nil
	}
	if r.u.BitLen() > maxBigBits || r.scale > maxDecimalScale || r.scale < -maxDecimalScale {
		return errDecimalRange
	}
	return r
}

// decimalBase reports whether Velocity 1.7 computes a op b in BigDecimal (MathUtils.
// findCalculationBase): when either is a BigDecimal, or a BigInteger meets a non-integer.
func decimalBase(a, b any) bool {
	_, ad := a.(*decimal)
	_, bd := b.(*decimal)
	if ad || bd {
		return true
	}
	_, abig := a.(*big.Int)
	_, bbig := b.(*big.Int)
	_, af := a.(float64)
	_, bf := b.(float64)
	return (abig || bbig) && (af || bf)
}
