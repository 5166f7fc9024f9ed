package server

import (
	_ "embed"
	"net/http"

	"github.com/gin-gonic/gin"
)

// openAPI is the API's OpenAPI 3 description, served at /openapi.json.
// TestOpenAPIDescribesEveryRoute holds it to the routes New registers.
//
//go:embed api/openapi.json
var openAPI []byte

// OpenAPI returns the API's OpenAPI 3 description (JSON).
func OpenAPI() []byte { return openAPI }

func (h *handler) openapi(c *gin.Context) {
	c.Header("Cache-Control", "no-cache")
	c.Data(http.StatusOK, "application/json; charset=utf-8", openAPI)
}
