package server

import (
	"context"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/groundedhq/grounded"
)

// statuses maps error codes to HTTP statuses.
var statuses = map[string]int{
	grounded.EINVALID:     http.StatusBadRequest,
	grounded.ENOTFOUND:    http.StatusNotFound,
	grounded.ETOOLARGE:    http.StatusRequestEntityTooLarge,
	grounded.ECONFLICT:    http.StatusConflict,
	grounded.EUNAVAILABLE: http.StatusServiceUnavailable,
	grounded.EINTERNAL:    http.StatusInternalServerError,

	grounded.EUNSUPPORTED:  http.StatusUnsupportedMediaType,
	grounded.EUNAUTHORIZED: http.StatusUnauthorized,
	grounded.EFORBIDDEN:    http.StatusForbidden,
	grounded.ERATELIMITED:  http.StatusTooManyRequests,
	grounded.EBUSY:         http.StatusServiceUnavailable,
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// writeError answers with err's code, message and status. A request that ran
// out of time is a 504 "timeout"; one cancelled (the client left, or the
// server is shutting down) is a 503 "unavailable", which a departed client
// never reads.
func writeError(c *gin.Context, err error) {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		c.AbortWithStatusJSON(http.StatusGatewayTimeout, errorBody{errorDetail{"timeout", "the request took too long"}})
		return
	case errors.Is(err, context.Canceled):
		c.AbortWithStatusJSON(http.StatusServiceUnavailable, errorBody{errorDetail{"unavailable", "the request was cancelled"}})
		return
	}
	code := grounded.ErrorCode(err)
	status, ok := statuses[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	c.AbortWithStatusJSON(status, errorBody{errorDetail{code, grounded.ErrorMessage(err)}})
}
